import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { MemoryRunInput, MemoryRunOutput } from './memory-run.js'
import { table, type SuiteResult } from './report.js'

/**
 * Memory suite: RSS and heapUsed before and after 1,000,000 distinct valid
 * tokens through `guard.verify`, with the default cache (max 10,000) and with
 * `cache: { max: 100_000 }`. Each configuration runs in a fresh process so one
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

async function measure(input: MemoryRunInput): Promise<MemoryRunOutput> {
  const child = fork(fileURLToPath(new URL('./memory-run.ts', import.meta.url)), [JSON.stringify(input)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [[output], [code]] = await Promise.all([once(child, 'message'), once(child, 'exit')])
  if (code !== 0) throw new Error(`memory run exited with code ${code}`)
  return output as MemoryRunOutput
}

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
  ]
  const notes = figures.map(
    (r) =>
      `${r.config}: cache holds ${r.cacheSize.toLocaleString('en-US')} of ${r.count.toLocaleString('en-US')} tokens (max ${r.cacheMax.toLocaleString('en-US')}); ` +
      `RSS grew ${mib(r.rssGrowth).toFixed(1)} MiB overall, ${mib(r.rssGrowthSecondHalf).toFixed(1)} MiB over the second half.`,
  )
  return { suite: 'memory', figures, tables, notes }
}
