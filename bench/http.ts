import autocannon from 'autocannon'
import { createHistogram } from 'node:perf_hooks'
import { median } from './measure.js'
import { ratio, table, type SuiteResult } from './report.js'
import { launch, type ServerProcess } from './servers/launch.js'
import {
  BASELINE_ENV,
  BASELINE_VARIANTS,
  FRAMEWORKS,
  ROUTE,
  VARIANTS,
  type Framework,
  type ServerStats,
  type Variant,
} from './servers/protocol.js'
import { createFixtures, serverConfig, SUB } from './setup.js'

/**
 * HTTP suite: autocannon against Express 4 and 5, Koa 2 and 3, Fastify 4 and 5, each server
 * in its own process (the load generator does not share its event loop), with
 * 1,000 distinct valid RS256 tokens rotated across requests. The variants of a
 * framework are measured in interleaved rounds and reported as the median, so
 * that a noisy spell of a shared machine does not decide a comparison; each
 * round's figure is printed too. Server CPU per request (all its threads) is
 * the steadier figure where req/s is close.
 */

export interface HttpFigure {
  framework: Framework
  /** The framework package's version the server loaded. */
  frameworkVersion: string
  variant: Variant
  /** Median over the rounds. */
  reqPerSec: number
  /** Each round's req/s, in round order. */
  rounds: number[]
  /** Median over the rounds of each round's p99 latency, at µs resolution (autocannon's own histogram keeps whole ms). */
  latencyP99Ms: number
  /** `latencyP99Ms` minus noop-guard's. */
  p99OverNoopMs: number | undefined
  latencyAvgMs: number
  non2xx: number
  /** Responses whose body was not `{"sub":…}` with the token's subject. */
  mismatches: number
  errors: number
  eventLoopMaxMs: number
  eventLoopP99Ms: number
  serverRss: number
  /** Server CPU (all threads) per request served, in µs: less noisy than req/s, and it shows work moved off the main thread. */
  cpuUsPerRequest: number
  /** The same per round, in round order; `cpuUsPerRequest` is their trimmed mean (the highest and lowest tenth left out, at least one each). */
  cpuRounds: number[]
  /** `cpuUsPerRequest` minus noop-guard's: what this variant costs above the framework's own cost of one more middleware. */
  cpuOverNoopUs: number | undefined
  ratioToBare: number
}

/** Mean without the highest and lowest tenth of the values (at least one of each when there are five or more). */
function trimmedMean(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const cut = sorted.length >= 5 ? Math.max(1, Math.floor(sorted.length * 0.1)) : 0
  const kept = sorted.slice(cut, sorted.length - cut)
  return kept.reduce((a, b) => a + b, 0) / kept.length
}

const CONNECTIONS = 50
/** Interleaved rounds per variant, and their length. */
const ROUNDS = 5
const ROUND_SECONDS = 4
const POOL = 1_000
/** Bare rounds further apart than this (relative to their median) mean the machine was noisy. */
const NOISY_SPREAD = 0.2
/** The target: no event-loop stall above this under load. */
const STALL_MS = 50

/**
 * Load with a token per request, cycling the pool; counts 200s whose body is not the expected one. Latency is
 * recorded here in µs from each response's time: autocannon's histogram counts whole milliseconds, too coarse for
 * a p99 compared within 1 ms.
 */
async function load(port: number, tokens: readonly string[], seconds: number, expectBody: string) {
  let next = 0
  let mismatches = 0
  const latencyUs = createHistogram()
  const options: autocannon.Options = {
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        path: ROUTE,
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
        }),
        onResponse: (status, body) => {
          if (status === 200 && body !== expectBody) mismatches++
        },
      },
    ],
  }
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (err: unknown, done: autocannon.Result) => (err ? reject(err) : resolve(done)))
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => latencyUs.record(Math.max(1, Math.round(responseTimeMs * 1000))))
  })
  return { ...result, mismatches, p99Ms: latencyUs.count > 0 ? latencyUs.percentile(99) / 1000 : Number.NaN }
}

type Run = Awaited<ReturnType<typeof load>>

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
const signed = (value: number | undefined, digits: number): string =>
  value === undefined ? '–' : (value >= 0 ? '+' : '') + value.toFixed(digits)
const bodyFor = (variant: Variant): string => JSON.stringify({ sub: variant === 'bare' ? 'anonymous' : SUB })

export async function runHttp({
  quick = false,
  log = console.log,
  frameworks = Object.keys(VARIANTS) as Framework[],
  variants,
}: {
  quick?: boolean
  log?: (line: string) => void
  frameworks?: readonly Framework[]
  /** Only these variants (plus `bare`, which every ratio needs). */
  variants?: readonly string[]
} = {}): Promise<SuiteResult> {
  const rounds = quick ? 2 : ROUNDS
  const seconds = quick ? 2 : ROUND_SECONDS
  const warmup = quick ? 1 : 2
  const f = await createFixtures()
  const figures: HttpFigure[] = []
  const tables: string[] = []
  const notes: string[] = []
  try {
    const tokens = await f.tokens('RS256', POOL)
    const config = serverConfig(f)
    for (const framework of frameworks) {
      const rows: HttpFigure[] = []
      const all: Variant[] = [...VARIANTS[framework], ...(process.env[BASELINE_ENV] ? BASELINE_VARIANTS : [])]
      const chosen = all.filter((v) => !variants || v === 'bare' || variants.includes(v))
      // Every variant in its own process, all started up front and warmed, then measured in
      // interleaved rounds: a noisy minute on a shared machine hits every variant alike.
      const servers = new Map<Variant, ServerProcess>()
      const runs = new Map<Variant, Run[]>()
      const roundStats = new Map<Variant, ServerStats[]>()
      try {
        for (const variant of chosen) {
          servers.set(variant, await launch(framework, [variant], config))
          runs.set(variant, [])
          roundStats.set(variant, [])
        }
        for (const variant of chosen) {
          log(`  http ${framework} · ${variant} · warm-up ${warmup} s`)
          await load(servers.get(variant)!.ports[variant]!, tokens, warmup, bodyFor(variant))
          servers.get(variant)!.reset()
        }
        for (let round = 0; round < rounds; round++) {
          // Each round starts with another variant, so none is always measured first or last.
          const order = chosen.map((_, i) => chosen[(i + round) % chosen.length]!)
          log(`  http ${framework} · round ${round + 1}/${rounds} · ${order.length} × ${seconds} s`)
          for (const variant of order) {
            const server = servers.get(variant)!
            const run = await load(server.ports[variant]!, tokens, seconds, bodyFor(variant))
            // Each round's server CPU and loop delay, read and reset at its end.
            const stats = await server.stats()
            server.reset()
            runs.get(variant)!.push(run)
            roundStats.get(variant)!.push(stats)
          }
        }
        for (const variant of chosen) {
          const r = runs.get(variant)!
          const perRound = roundStats.get(variant)!
          const last = perRound[perRound.length - 1]!
          const cpuRounds = perRound.map((st, i) => (r[i]!.requests.total > 0 ? st.cpuUs / r[i]!.requests.total : 0))
          rows.push({
            framework,
            frameworkVersion: servers.get(variant)!.version,
            variant,
            reqPerSec: median(r.map((x) => x.requests.average)),
            rounds: r.map((x) => Math.round(x.requests.average)),
            latencyP99Ms: median(r.map((x) => x.p99Ms)),
            p99OverNoopMs: undefined,
            latencyAvgMs: median(r.map((x) => x.latency.average)),
            non2xx: sum(r.map((x) => x.non2xx)),
            mismatches: sum(r.map((x) => x.mismatches)),
            errors: sum(r.map((x) => x.errors)),
            eventLoopMaxMs: Math.max(...perRound.map((st) => st.eventLoopMaxMs)),
            eventLoopP99Ms: Math.max(...perRound.map((st) => st.eventLoopP99Ms)),
            serverRss: last.rss,
            cpuUsPerRequest: trimmedMean(cpuRounds),
            cpuRounds,
            cpuOverNoopUs: undefined,
            ratioToBare: 0,
          })
        }
      } finally {
        await Promise.all([...servers.values()].map((server) => server.stop()))
      }
      const bare = rows.find((r) => r.variant === 'bare')!.reqPerSec
      const noop = rows.find((r) => r.variant === 'noop-guard')
      for (const row of rows) {
        row.ratioToBare = row.reqPerSec / bare
        if (noop) {
          row.cpuOverNoopUs = row.cpuUsPerRequest - noop.cpuUsPerRequest
          row.p99OverNoopMs = row.latencyP99Ms - noop.latencyP99Ms
        }
      }
      figures.push(...rows)
      tables.push(
        table(
          `http · ${FRAMEWORKS[framework].label} (${rows[0]!.frameworkVersion}; ${CONNECTIONS} connections; median of ${rounds} interleaved rounds of ${seconds} s)`,
          [
            'variant',
            'req/s',
            'ratio to bare',
            'rounds (req/s)',
            'CPU µs/req',
            '− noop-guard',
            'p99 ms',
            '− noop-guard',
            'non-2xx',
            'bad body',
            'errors',
            'loop max ms',
          ],
          rows.map((r) => [
            r.variant,
            r.reqPerSec,
            ratio(r.reqPerSec, bare),
            r.rounds.join(' '),
            Math.round(r.cpuUsPerRequest * 10) / 10,
            signed(r.cpuOverNoopUs, 1),
            Math.round(r.latencyP99Ms * 100) / 100,
            signed(r.p99OverNoopMs, 2),
            r.non2xx,
            r.mismatches,
            r.errors,
            r.eventLoopMaxMs,
          ]),
        ),
      )
      const bareRounds = rows.find((r) => r.variant === 'bare')!.rounds
      const spread = (Math.max(...bareRounds) - Math.min(...bareRounds)) / bare
      if (spread > NOISY_SPREAD)
        notes.push(
          `! ${framework}: bare rounds spread ${Math.round(spread * 100)}% (${bareRounds.join(' ')}): the machine was noisy during this suite; read close comparisons with care`,
        )
      for (const r of rows) {
        if (r.non2xx + r.mismatches + r.errors > 0)
          notes.push(
            `!!! WARNING: ${framework} / ${r.variant}: ${r.non2xx} non-2xx, ${r.mismatches} wrong bodies, ${r.errors} errors — this row did not measure verification`,
          )
        if (r.eventLoopMaxMs > STALL_MS)
          notes.push(
            `! ${framework} / ${r.variant}: event-loop delay reached ${r.eventLoopMaxMs.toFixed(1)} ms (target: none over ${STALL_MS} ms)`,
          )
      }
    }
  } finally {
    await f.close()
  }
  const summary = adapterCost(figures)
  if (summary) tables.push(summary)
  return { suite: 'http', figures, tables, notes }
}

/** Issue 16's targets for a cache hit above noop-guard, per framework version. */
const CPU_OVER_NOOP_US = 3
const P99_OVER_NOOP_MS = 1

/** jwtguard's cache hits against noop-guard on every framework version measured, with the targets. */
function adapterCost(figures: readonly HttpFigure[]): string | undefined {
  const rows = figures.filter((r) => r.variant === 'jwtguard' && r.cpuOverNoopUs !== undefined && r.p99OverNoopMs !== undefined)
  if (rows.length === 0) return undefined
  const mark = (value: number, limit: number) => (value <= limit ? 'ok' : 'over')
  return table(
    `http · jwtguard (cache hits) above noop-guard (targets: ≤ ${CPU_OVER_NOOP_US} µs CPU per request, p99 ≤ ${P99_OVER_NOOP_MS} ms more)`,
    ['framework', 'CPU µs/req − noop-guard', 'CPU', 'p99 ms − noop-guard', 'p99'],
    rows.map((r) => [
      FRAMEWORKS[r.framework].label,
      signed(r.cpuOverNoopUs, 1),
      mark(r.cpuOverNoopUs!, CPU_OVER_NOOP_US),
      signed(r.p99OverNoopMs, 2),
      mark(r.p99OverNoopMs!, P99_OVER_NOOP_MS),
    ]),
  )
}
