import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { MemoryRunInput, MemoryRunOutput } from './memory-run.js'
import type { StoreKind, StoreRunInput, StoreRunOutput } from './memory-stores-run.js'
import type { ReplicaRunInput, ReplicaRunOutput } from './memory-replica-run.js'
import { table, type SuiteResult } from './report.js'

/**
 * Memory suite: RSS and heapUsed before and after 1,000,000 distinct valid
 * tokens through `guard.verify`, with the default cache (max 10,000) and with
 * `cache: { max: 100_000 }`; then bytes per entry of each in-memory deny-list
 * filled to its default `max`, and a replicated Redis revocation store holding as
 * many revoked `jti`s as tokens (a real redis-server). Each configuration runs in a fresh process so one
 * does not inherit the other's heap.
 */

export interface MemoryFigure extends MemoryRunOutput {
  config: string
  count: number
  cacheMax: number
  rssGrowth: number
  heapGrowth: number
  /** RSS growth over the second half of the run: near zero when memory is bounded. */
  rssGrowthSecondHalf: number
}

const CONFIGS: { name: string; max: number | undefined; cacheMax: number }[] = [
  { name: 'default cache (max 10,000)', max: undefined, cacheMax: 10_000 },
  { name: 'cache: { max: 100_000 }', max: 100_000, cacheMax: 100_000 },
]

const MiB = 2 ** 20
const mib = (bytes: number): number => bytes / MiB

const STORES: StoreKind[] = ['revocation jti', 'revocation subject', 'dpop replay']

async function run<I, O>(script: string, input: I): Promise<O> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [JSON.stringify(input)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [[output], [code]] = await Promise.all([once(child, 'message'), once(child, 'exit')])
  if (code !== 0) throw new Error(`${script} exited with code ${code}`)
  return output as O
}

const measure = (input: MemoryRunInput) => run<MemoryRunInput, MemoryRunOutput>('./memory-run.ts', input)
const measureStore = (input: StoreRunInput) => run<StoreRunInput, StoreRunOutput>('./memory-stores-run.ts', input)
const measureReplica = (input: ReplicaRunInput) => run<ReplicaRunInput, ReplicaRunOutput>('./memory-replica-run.ts', input)

export async function runMemory({ quick = false, log = console.log } = {}): Promise<SuiteResult> {
  const count = quick ? 100_000 : 1_000_000
  const figures: MemoryFigure[] = []
  for (const config of CONFIGS) {
    log(`  memory ${config.name} · ${count.toLocaleString('en-US')} tokens`)
    const out = await measure({ count, max: config.max })
    const half = out.samples.find((s) => s.tokens === count / 2) ?? out.before
    figures.push({
      ...out,
      config: config.name,
      count,
      cacheMax: config.cacheMax,
      rssGrowth: out.after.rss - out.before.rss,
      heapGrowth: out.after.heapUsed - out.before.heapUsed,
      rssGrowthSecondHalf: out.after.rss - half.rss,
    })
  }
  const stores: StoreRunOutput[] = []
  for (const kind of STORES) {
    log(`  memory ${kind} store · filled to max`)
    stores.push(await measureStore({ kind }))
  }
  log(`  memory redis replica · ${count.toLocaleString('en-US')} revoked jtis`)
  const replica = await measureReplica({ count })
  const tables = [
    table(
      `memory · ${count.toLocaleString('en-US')} distinct HS256 tokens through guard.verify (MiB)`,
      ['config', 'RSS before', 'RSS after', 'RSS growth', '2nd half', 'heap before', 'heap after', 'cache size', 'tokens/s'],
      figures.map((r) => [
        r.config,
        mib(r.before.rss),
        mib(r.after.rss),
        mib(r.rssGrowth),
        mib(r.rssGrowthSecondHalf),
        mib(r.before.heapUsed),
        mib(r.after.heapUsed),
        r.cacheSize,
        r.count / r.seconds,
      ]),
    ),
    ...figures.map((r) =>
      table(
        `memory · ${r.config}: RSS / heapUsed as tokens go through (MiB)`,
        ['tokens', 'RSS', 'heapUsed'],
        r.samples.map((s) => [s.tokens, mib(s.rss), mib(s.heapUsed)]),
      ),
    ),
    table(
      'memory · in-memory deny-lists filled to their default max (unexpired entries)',
      ['store', 'entries', 'heap growth (MiB)', 'RSS growth (MiB)', 'bytes per entry', 'entries/s'],
      stores.map((r) => [r.kind, r.entries, mib(r.heapGrowth), mib(r.rssGrowth), r.heapGrowth / r.entries, r.entries / r.seconds]),
    ),
    table(
      'memory · a replicated Redis revocation store (replicate: true) holding revoked jtis, after its first full load',
      ['revoked jtis', 'heap growth (MiB)', 'RSS growth (MiB)', 'bytes per jti', 'full load (s)'],
      [[replica.count, mib(replica.heapGrowth), mib(replica.rssGrowth), replica.heapGrowth / replica.count, replica.loadSeconds]],
    ),
  ]
  const notes = figures.map(
    (r) =>
      `${r.config}: cache holds ${r.cacheSize.toLocaleString('en-US')} of ${r.count.toLocaleString('en-US')} tokens (max ${r.cacheMax.toLocaleString('en-US')}); ` +
      `RSS grew ${mib(r.rssGrowth).toFixed(1)} MiB overall, ${mib(r.rssGrowthSecondHalf).toFixed(1)} MiB over the second half.`,
  )
  notes.push(
    ...stores.map(
      (r) => `${r.kind} store: ${Math.round(r.heapGrowth / r.entries)} bytes per entry at max ${r.entries.toLocaleString('en-US')}.`,
    ),
  )
  notes.push(
    `redis replica: ${Math.round(replica.heapGrowth / replica.count)} bytes per revoked jti at ${replica.count.toLocaleString('en-US')} (${mib(replica.heapGrowth).toFixed(0)} MiB), full load ${replica.loadSeconds.toFixed(1)} s.`,
  )
  return { suite: 'memory', figures: [...figures, ...stores, { kind: 'redis replica', ...replica }], tables, notes }
}
