import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import { table, writeSuiteFile } from './report.js'
import { launch, type ServerProcess } from './servers/launch.js'
import { ROUTE } from './servers/protocol.js'
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js'
import { soakTokens, TOKEN_KINDS, type SoakTokens, type TokenKind } from './soak-tokens.js'

/**
 * `npm run soak [-- --seconds N]`: mixed valid / expired / forged / unknown-kid
 * / malformed traffic through Fastify + jwtguard (`jwksUri` on a loopback
 * JWKS), while the JWKS rotates every 5 s and answers 500 for 2.5 s of every
 * 20 s. Exits non-zero on a 5xx other than 503, a crash or an unanswered
 * request, a bad token accepted, unbounded JWKS fetching, or heap growth after
 * warm-up. Not part of `npm test`.
 */

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } })
const SECONDS = Number(values.seconds)
if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error('--seconds must be a positive number')

const CONNECTIONS = 32
const REQUEST_TIMEOUT_MS = 5_000
const ROTATE_EVERY_S = 5
/** The JWKS is down during [7 s, 9.5 s) of every 20 s: after a rotation has been fetched, so valid tokens keep verifying. */
const isDown = (t: number): boolean => t % 20 >= 7 && t % 20 < 9.5
const JWKS_CACHE = { cacheMaxAge: 2_000, cooldownDuration: 1_000, timeoutDuration: 1_000, staleIfError: 300_000 }
/** Each fetch is either at least a cooldown after the previous attempt, or a refresh of a set at least cacheMaxAge old. */
const FETCH_BOUND = Math.ceil((SECONDS * 1000) / JWKS_CACHE.cooldownDuration + (SECONDS * 1000) / JWKS_CACHE.cacheMaxAge) + 2
/** 6 in 10 requests carry a valid token. */
const MIX: TokenKind[] = ['valid', 'valid', 'valid', 'valid', 'valid', 'valid', 'expired', 'forged', 'unknown-kid', 'malformed']

type Counts = Map<TokenKind, Map<string, number>>

/** Server memory is sampled about 30 times a run; the first quarter is warm-up (caches filling). */
const SAMPLE_EVERY_MS = Math.max(1_000, (SECONDS * 1000) / 30)
const WARM_UP = 0.25
/** After warm-up, the heap's peak in the later half may exceed the earlier half's by at most this much (GC timing). */
const HEAP_SLACK = { ratio: 0.1, bytes: 4 * 2 ** 20 }

interface MemorySample {
  t: number
  rss: number
  heapUsed: number
}

/** Samples the server's memory until `until` resolves. */
async function sampleMemory(server: ServerProcess, until: Promise<unknown>): Promise<MemorySample[]> {
  const samples: MemorySample[] = []
  const started = Date.now()
  let done = false
  void until.finally(() => (done = true))
  while (!done && server.alive()) {
    await Promise.race([until, new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS))])
    if (done || !server.alive()) break
    const { rss, heapUsed } = await server.stats()
    samples.push({ t: (Date.now() - started) / 1000, rss, heapUsed })
  }
  return samples
}

/** No stall of the server's event loop over this, in ms (issue 16). */
const STALL_MS = 50

/**
 * An idle Node process on the same machine, measuring its own event-loop delay as the server does: a stall it sees
 * too is the machine's (a descheduled VM), not the server's. Answers its largest delay in ms on any message.
 */
const PROBE = `const h = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 10 }); h.enable();
setInterval(() => {}, 1000);
process.on('message', (m) => { if (m === 'reset') return h.reset(); process.send(h.max / 1e6) });
process.on('disconnect', () => process.exit(0));`

function startProbe(): ChildProcess {
  return spawn(process.execPath, ['-e', PROBE], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
}

async function probeMaxMs(probe: ChildProcess): Promise<number | undefined> {
  if (!probe.connected) return undefined
  const reply = once(probe, 'message')
  probe.send('max')
  const [max] = (await Promise.race([reply, new Promise((resolve) => setTimeout(resolve, 5_000, [undefined]))])) as [unknown]
  return typeof max === 'number' ? max : undefined
}

/** Peak heap of the earlier and the later half of the samples after warm-up. */
function heapAfterWarmUp(samples: MemorySample[]): { earlier: number; later: number } | undefined {
  const warm = samples.filter((x) => x.t >= SECONDS * WARM_UP)
  if (warm.length < 4) return undefined
  const mid = warm.length >> 1
  const peak = (xs: MemorySample[]) => Math.max(...xs.map((x) => x.heapUsed))
  return { earlier: peak(warm.slice(0, mid)), later: peak(warm.slice(mid)) }
}

/** Drives the clock (rotations, outages) and the traffic until the deadline; counts outcomes per token kind. */
async function traffic(
  issuer: TestIssuer,
  tokens: SoakTokens,
  server: ServerProcess,
): Promise<{ counts: Counts; sent: number; rotations: number }> {
  const url = `http://127.0.0.1:${server.ports.jwtguard}${ROUTE}`
  const counts: Counts = new Map(TOKEN_KINDS.map((k) => [k, new Map()]))
  const count = (kind: TokenKind, outcome: string) => counts.get(kind)!.set(outcome, (counts.get(kind)!.get(outcome) ?? 0) + 1)
  const started = Date.now()
  let rotations = 0
  let rotating: Promise<void> | undefined
  const clock = setInterval(() => {
    const t = (Date.now() - started) / 1000
    issuer.setJwksFault(isDown(t) ? '500' : undefined)
    if (!rotating && Math.floor(t / ROTATE_EVERY_S) > rotations) {
      rotations++
      rotating = tokens.rotate().finally(() => (rotating = undefined))
    }
  }, 100)
  let sent = 0
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < started + SECONDS * 1000 && server.alive()) {
        const kind = MIX[sent++ % MIX.length]!
        const authorization = tokens.authorization(kind)
        try {
          const headers: Record<string, string> = authorization === undefined ? {} : { authorization }
          const res = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
          await res.arrayBuffer()
          count(kind, String(res.status))
        } catch {
          count(kind, 'no answer')
        }
      }
    }),
  )
  clearInterval(clock)
  await rotating
  return { counts, sent, rotations }
}

const sum = (entries: [string, number][]): number => entries.reduce((n, [, c]) => n + c, 0)
const mib = (bytes: number | undefined): string => (bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MiB`)

const AUDIENCE = 'https://api.soak.test'
const issuer = await createTestIssuer({ algorithms: ['RS256'], audience: AUDIENCE })
let server: ServerProcess | undefined
const probe = startProbe()
try {
  const tokens = await soakTokens(issuer)
  server = await launch('fastify', ['jwtguard'], {
    issuer: issuer.issuer,
    audience: AUDIENCE,
    jwksUri: issuer.jwksUri,
    jwk: tokens.signingJwk(),
    jwksCache: JWKS_CACHE,
  })
  const start = await server.stats()
  server.reset()
  if (probe.connected) probe.send('reset')
  const running = traffic(issuer, tokens, server)
  const [{ counts, sent, rotations }, samples] = await Promise.all([running, sampleMemory(server, running)])
  const end = server.alive() ? await server.stats() : undefined
  const probeMax = await probeMaxMs(probe)
  const crashed = !server.alive()

  const outcomes = [...new Set([...counts.values()].flatMap((m) => [...m.keys()]))].sort()
  console.log(
    table(
      `soak · ${SECONDS} s · ${sent.toLocaleString('en-US')} requests · ${rotations} rotations`,
      ['token', ...outcomes],
      TOKEN_KINDS.map((k) => [k, ...outcomes.map((s) => counts.get(k)!.get(s) ?? 0)]),
    ),
  )
  const all = [...counts.values()].flatMap((m) => [...m.entries()])
  const serverErrors = sum(all.filter(([s]) => Number(s) >= 500 && s !== '503'))
  const unanswered = sum(all.filter(([s]) => s === 'no answer'))
  const accepted = sum(all.filter(([s]) => s === '200')) - (counts.get('valid')!.get('200') ?? 0)
  const validRefused = sum([...counts.get('valid')!.entries()].filter(([s]) => s !== '200'))
  const fetches = issuer.requests.jwks
  const failedFetches = issuer.requests.jwksFaulted
  const heap = heapAfterWarmUp(samples)
  const heapBound = heap && Math.max(heap.earlier * (1 + HEAP_SLACK.ratio), heap.earlier + HEAP_SLACK.bytes)
  const checks: [boolean, string][] = [
    [serverErrors === 0, `5xx other than 503: ${serverErrors}`],
    [!crashed && unanswered === 0, `server crashed: ${crashed ? 'YES' : 'no'}; requests with no answer: ${unanswered}`],
    [accepted === 0, `bad tokens accepted (200 for expired / forged / unknown-kid / malformed): ${accepted}`],
    [
      fetches <= FETCH_BOUND,
      `JWKS fetches: ${fetches} (${fetches - failedFetches} ok, ${failedFetches} answered 500); bound ${FETCH_BOUND}`,
    ],
    [
      heap !== undefined && heap.later <= heapBound!,
      heap
        ? `heap after warm-up (first ${WARM_UP * 100}% of the run): peak ${mib(heap.earlier)} in the earlier half, ${mib(heap.later)} in the later half (bound ${mib(heapBound)})`
        : `heap after warm-up: too few samples (${samples.length})`,
    ],
  ]
  for (const [ok, line] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`)
  console.log(`${validRefused === 0 ? 'ok  ' : 'WARN'} valid tokens refused: ${validRefused}`)
  const ms = (value: number | undefined): string => (value === undefined ? '–' : `${value.toFixed(1)} ms`)
  console.log(
    `${end && end.eventLoopMaxMs <= STALL_MS ? 'ok  ' : 'WARN'} server event-loop delay: max ${ms(end?.eventLoopMaxMs)} (target ${STALL_MS} ms), ` +
      `p99 ${ms(end?.eventLoopP99Ms)}; its longest GC pause ${ms(end?.gcMaxMs)}; an idle process on this machine: max ${ms(probeMax)}`,
  )
  console.log(`server RSS at start ${mib(start.rss)}, at end ${mib(end?.rss)}`)
  console.log(
    `heap / RSS every ${(SAMPLE_EVERY_MS / 1000).toFixed(0)} s (MiB): ${samples.map((x) => `${(x.heapUsed / 2 ** 20).toFixed(0)}/${(x.rss / 2 ** 20).toFixed(0)}`).join(' ')}`,
  )
  console.log(
    [
      '503 is documented for one case: a token whose kid the guard does not hold while the JWKS is failing, so no usable key',
      'can be had (it may be a rotation the guard cannot see yet: never 401). Unknown-kid tokens sent during an outage get it;',
      'tokens whose key is held keep verifying from the stale set (staleIfError).',
    ].join('\n'),
  )
  const byKind = Object.fromEntries([...counts].map(([k, m]) => [k, Object.fromEntries(m)]))
  const figures = {
    seconds: SECONDS,
    requests: sent,
    rotations,
    counts: byKind,
    fetches: { ok: fetches - failedFetches, failed: failedFetches },
    fetchBound: FETCH_BOUND,
    crashed,
    start,
    end,
    idleProcessEventLoopMaxMs: probeMax,
    memory: samples,
  }
  console.log(`wrote ${await writeSuiteFile('soak', figures, false)}`)
  if (checks.some(([ok]) => !ok)) process.exitCode = 1
} finally {
  probe.kill()
  await server?.stop()
  await issuer.close()
}
