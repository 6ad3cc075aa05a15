import { createHmac, randomBytes } from 'node:crypto'
import { createGuard } from 'jwtguard'

/**
 * One memory measurement, in a fresh process started with --expose-gc by
 * memory.ts: `count` distinct valid HS256 tokens through `guard.verify`, signed
 * inline (never all held in memory), with bounded concurrency. Reports over IPC.
 */

export interface MemoryRunInput {
  count: number
  /** `cache.max`; `undefined` for the default cache. */
  max: number | undefined
}

export interface MemorySample {
  tokens: number
  rss: number
  heapUsed: number
}

export interface MemoryRunOutput {
  before: MemorySample
  after: MemorySample
  samples: MemorySample[]
  /**
   * Tokens the cache still answers for, found by presenting the newest tokens
   * again until the first miss (tokens finish slightly out of order with 64 in
   * flight, so this may read a few dozen under the true size).
   */
  cacheSize: number
  seconds: number
}

const CONCURRENCY = 64
const ISS = 'https://issuer.bench.test'
const AUD = 'https://api.bench.test'

const input = JSON.parse(process.argv[2]!) as MemoryRunInput
const gc = (globalThis as { gc?: () => void }).gc
if (!gc || !process.send) throw new Error('memory-run.ts is started by memory.ts (with --expose-gc and IPC)')

const secret = randomBytes(64)
const iat = Math.floor(Date.now() / 1000)
const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
/** Token `i`, the same bytes each time it is made. */
function token(i: number): string {
  const payload = Buffer.from(JSON.stringify({ iss: ISS, aud: AUD, sub: `user-${i}`, iat, exp: iat + 3600, jti: `t${i}` })).toString(
    'base64url',
  )
  const input = `${header}.${payload}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

let hits = 0
const guard = createGuard({
  issuer: ISS,
  audience: AUD,
  secret,
  algorithms: ['HS256'],
  ...(input.max === undefined ? {} : { cache: { max: input.max } }),
  onEvent: (event) => {
    if (event.type === 'cache_hit') hits++
  },
})

/** After a full GC, so samples show what is held (the cache), not garbage waiting for collection. */
const sample = (tokens: number): MemorySample => {
  gc()
  const { rss, heapUsed } = process.memoryUsage()
  return { tokens, rss, heapUsed }
}

const before = sample(0)
const started = performance.now()
const samples: MemorySample[] = []
const every = input.count / 10
let next = 0
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < input.count) {
      const i = next++
      await guard.verify(token(i))
      if ((i + 1) % every === 0) samples.push(sample(i + 1))
    }
  }),
)
const seconds = (performance.now() - started) / 1000
const after = sample(input.count)

// Newest first: every hit leaves the cache as it was; the first miss marks its size.
const probeLimit = Math.min(input.count, (input.max ?? 10_000) + 1)
hits = 0
for (let i = input.count - 1; i >= input.count - probeLimit; i--) {
  const before = hits
  await guard.verify(token(i))
  if (hits === before) break
}
samples.sort((a, b) => a.tokens - b.tokens)
const output: MemoryRunOutput = { before, after, samples, cacheSize: hits, seconds }
process.send(output, () => process.exit(0))
