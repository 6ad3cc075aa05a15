import autocannon from 'autocannon'
import { ratio, table, type SuiteResult } from './report.js'
import { launch } from './servers/launch.js'
import { ROUTE, VARIANTS, type Framework, type Variant } from './servers/protocol.js'
import { createFixtures, serverConfig, SUB } from './setup.js'

/**
 * HTTP suite: autocannon against Express 5, Koa 3 and Fastify 5, each server
 * in its own process (the load generator does not share its event loop), with
 * 1,000 distinct valid RS256 tokens rotated across requests.
 */

export interface HttpFigure {
  framework: Framework
  variant: Variant
  reqPerSec: number
  latencyP99Ms: number
  latencyAvgMs: number
  non2xx: number
  /** Responses whose body was not `{"sub":…}` with the token's subject. */
  mismatches: number
  errors: number
  eventLoopMaxMs: number
  eventLoopP99Ms: number
  serverRss: number
  ratioToBare: number
}

const CONNECTIONS = 50
const POOL = 1_000
/** The target: no event-loop stall above this under load. */
const STALL_MS = 50

/** Load with a token per request, cycling the pool; counts 200s whose body is not the expected one. */
async function load(port: number, tokens: readonly string[], seconds: number, expectBody: string) {
  let next = 0
  let mismatches = 0
  const result = await autocannon({
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
  })
  return { ...result, mismatches }
}

export async function runHttp({ quick = false, log = console.log } = {}): Promise<SuiteResult> {
  const seconds = quick ? 3 : 10
  const warmup = quick ? 1 : 2
  const f = await createFixtures()
  const figures: HttpFigure[] = []
  const tables: string[] = []
  const notes: string[] = []
  try {
    const tokens = await f.tokens('RS256', POOL)
    const config = serverConfig(f)
    for (const framework of Object.keys(VARIANTS) as Framework[]) {
      const rows: HttpFigure[] = []
      for (const variant of VARIANTS[framework]) {
        log(`  http ${framework} · ${variant} · ${seconds} s`)
        const server = await launch(framework, [variant], config)
        try {
          const port = server.ports[variant]!
          const body = JSON.stringify({ sub: variant === 'bare' ? 'anonymous' : SUB })
          await load(port, tokens, warmup, body)
          server.reset()
          const r = await load(port, tokens, seconds, body)
          const stats = await server.stats()
          rows.push({
            framework,
            variant,
            reqPerSec: r.requests.average,
            latencyP99Ms: r.latency.p99,
            latencyAvgMs: r.latency.average,
            non2xx: r.non2xx,
            mismatches: r.mismatches,
            errors: r.errors,
            eventLoopMaxMs: stats.eventLoopMaxMs,
            eventLoopP99Ms: stats.eventLoopP99Ms,
            serverRss: stats.rss,
            ratioToBare: 0,
          })
        } finally {
          await server.stop()
        }
      }
      const bare = rows.find((r) => r.variant === 'bare')!.reqPerSec
      for (const row of rows) row.ratioToBare = row.reqPerSec / bare
      figures.push(...rows)
      tables.push(
        table(
          `http · ${framework} (${CONNECTIONS} connections, ${seconds} s)`,
          ['variant', 'req/s', 'ratio to bare', 'p99 ms', 'non-2xx', 'bad body', 'errors', 'loop max ms'],
          rows.map((r) => [
            r.variant,
            r.reqPerSec,
            ratio(r.reqPerSec, bare),
            r.latencyP99Ms,
            r.non2xx,
            r.mismatches,
            r.errors,
            r.eventLoopMaxMs,
          ]),
        ),
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
  return { suite: 'http', figures, tables, notes }
}
