import {
  createHmac,
  createVerify,
  constants,
  timingSafeEqual,
  verify as cryptoVerify,
  type KeyObject,
  type VerifyKeyObjectInput,
} from 'node:crypto'
import { cpus } from 'node:os'
import { GuardError } from '../errors.js'

/**
 * JWS signature verification on `node:crypto`, with keys imported once as
 * `KeyObject`s. HMAC is cheap and runs inline. Where an asymmetric check runs
 * is decided by what it costs against what handing it to libuv's thread pool
 * costs (measured on the 2-core bench machine; see docs/performance.md):
 *
 * - RSA (RS*, PS*) verification is cheap (about 25 µs for 2048 bits), less
 *   than waking an idle pool thread and hearing back from it for one check
 *   (about 45 µs of CPU). An RSA check is queued for the end of the current
 *   event-loop turn (the check phase, `setImmediate`) and the turn's checks
 *   run there together, inline, with `Verify` objects. Under load a turn
 *   collects the tokens of many requests parsed in the same poll phase; their
 *   handlers then run and write their responses in one burst, with fewer
 *   wake-ups and system calls per request for the server and its clients.
 * - While the event loop is saturated and the machine has a spare core, half
 *   of a turn's batch goes to the pool in one burst (cheap to hand over when
 *   many go at once), so that the spare core works too.
 * - A turn spends at most `INLINE_BUDGET_MS` on inline checks. The rest of a
 *   large batch (a flood of cold tokens) goes to the pool. The event loop is
 *   never held longer than the budget plus one check.
 * - ECDSA and EdDSA checks cost 3-4 times as much. For them the hand-off is
 *   the smaller part, and the pool lets a second core work, so they always
 *   run there (the callback form of `crypto.verify`). Their completions also
 *   arrive together, in one poll phase.
 *
 * A cold RSA token waits one event-loop turn; a cached token never gets here.
 */

interface Scheme {
  hash: string | null
  /** Extra key options: PSS padding, IEEE P1363 signatures for ECDSA. */
  key?: Omit<VerifyKeyObjectInput, 'key'>
  /** Exact signature length where the algorithm fixes it (ECDSA r||s, Ed25519). */
  length?: number
  /** Cheaper to verify on the event loop than to hand to the thread pool (RSA); otherwise always on the pool. */
  inline: boolean
}

const PSS = (saltLength: number): Omit<VerifyKeyObjectInput, 'key'> => ({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })
const P1363: Omit<VerifyKeyObjectInput, 'key'> = { dsaEncoding: 'ieee-p1363' }

const SCHEMES: Record<string, Scheme> = {
  RS256: { hash: 'sha256', inline: true },
  RS384: { hash: 'sha384', inline: true },
  RS512: { hash: 'sha512', inline: true },
  PS256: { hash: 'sha256', key: PSS(32), inline: true },
  PS384: { hash: 'sha384', key: PSS(48), inline: true },
  PS512: { hash: 'sha512', key: PSS(64), inline: true },
  ES256: { hash: 'sha256', key: P1363, length: 64, inline: false },
  ES384: { hash: 'sha384', key: P1363, length: 96, inline: false },
  ES512: { hash: 'sha512', key: P1363, length: 132, inline: false },
  EdDSA: { hash: null, length: 64, inline: false },
  Ed25519: { hash: null, length: 64, inline: false },
}

const HMAC: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

/** Time one event-loop turn may spend on inline checks before the rest of its batch goes to the thread pool. */
const INLINE_BUDGET_MS = 2
/** Running estimate of one inline check's cost in ms (what a pool share takes of a spare core). */
let inlineCostMs = 0.03
/** Taken at load: test code that fakes the timers later (jest, vitest) cannot stall verification. */
const nextTurn = setImmediate

interface Check {
  scheme: Scheme
  data: Buffer
  signature: Buffer
  key: KeyObject
  done: (ok: boolean) => void
}

/** The checks of this event-loop turn, run together at its end. */
let batch: Check[] = []

/** The key as `node:crypto` takes it for this scheme: with PSS padding or IEEE P1363 signatures where needed. */
const keyInput = (scheme: Scheme, key: KeyObject): KeyObject | VerifyKeyObjectInput => (scheme.key ? { key, ...scheme.key } : key)

/**
 * Inline check: a `Verify` object where the algorithm has a digest, one-shot
 * `crypto.verify` for Ed25519 (no streaming form). Timed with hrtime in a
 * loaded Express server, in turn on the same requests, the two forms cost the
 * same (about 45 µs there against 25 µs in a tight loop).
 */
function verifyInline({ scheme, data, signature, key }: Check): boolean {
  try {
    if (scheme.hash === null) return cryptoVerify(null, data, key, signature)
    return createVerify(scheme.hash).update(data).verify(keyInput(scheme, key), signature)
  } catch {
    return false // a key that does not fit the algorithm verifies nothing
  }
}

function verifyPooled({ scheme, data, signature, key, done }: Check): void {
  try {
    cryptoVerify(scheme.hash, data, keyInput(scheme, key), signature, (err, ok) => done(!err && ok))
  } catch {
    done(false) // a key that does not fit the algorithm verifies nothing
  }
}

/**
 * When to share a turn's batch with the thread pool: only while the event
 * loop is saturated (utilization ≥ `BUSY`) and the machine has a spare core
 * (system-wide idle time from `os.cpus()`, counting what our own pool jobs
 * take of it, so that sharing does not switch itself off). Sampled every
 * `SAMPLE_MS`. A server that waits on its clients gains nothing from the
 * pool and pays for every hand-off; a saturated loop on a machine with idle
 * cores gains a core.
 */
const SAMPLE_MS = 250
const BUSY = 0.9
const SPARE_CORES = 0.5
/** The share handed over: the event loop keeps the rest of the checks, and the JS of every token. */
const POOL_SHARE = 0.5

const load = { at: 0, idle: 0, total: 0, pooledMs: 0, elu: performance.eventLoopUtilization(), share: false }

function shareWithPool(now: number): boolean {
  if (now - load.at < SAMPLE_MS) return load.share
  const all = cpus()
  let idle = 0
  let total = 0
  for (const { times } of all) {
    idle += times.idle
    total += times.user + times.nice + times.sys + times.idle + times.irq
  }
  const spareCores =
    load.total > 0 && total > load.total ? ((idle - load.idle) / (total - load.total)) * all.length + load.pooledMs / (now - load.at) : 0
  const elu = performance.eventLoopUtilization()
  const busy = performance.eventLoopUtilization(elu, load.elu).utilization
  Object.assign(load, { at: now, idle, total, pooledMs: 0, elu, share: busy >= BUSY && spareCores >= SPARE_CORES })
  return load.share
}

/**
 * The end of a turn. The pool's share, if any, is handed over first, so that
 * it works while the event loop runs the rest inline, within the budget;
 * whatever the budget leaves goes to the pool too.
 */
function runBatch(): void {
  const checks = batch
  batch = []
  const start = performance.now()
  const inline = checks.length > 1 && shareWithPool(start) ? checks.length - Math.floor(checks.length * POOL_SHARE) : checks.length
  for (let i = inline; i < checks.length; i++) verifyPooled(checks[i]!)
  load.pooledMs += (checks.length - inline) * inlineCostMs
  const until = start + INLINE_BUDGET_MS
  let i = 0
  while (i < inline && performance.now() < until) {
    const check = checks[i++]!
    check.done(verifyInline(check))
  }
  if (i > 0) inlineCostMs = 0.8 * inlineCostMs + 0.2 * ((performance.now() - start) / i)
  while (i < inline) verifyPooled(checks[i++]!)
}

/** Checks one key; `done` is called once: synchronously for HMAC and misfits, at the end of the turn or from the pool otherwise. */
function verifyOne(alg: string, data: Buffer, signature: Buffer, key: KeyObject, done: (ok: boolean) => void): void {
  const hmac = HMAC[alg]
  if (hmac) {
    if (key.type !== 'secret') return done(false)
    const expected = createHmac(hmac, key).update(data).digest()
    return done(expected.length === signature.length && timingSafeEqual(expected, signature))
  }
  const scheme = SCHEMES[alg]
  if (!scheme || key.type !== 'public') return done(false)
  if (scheme.length !== undefined && signature.length !== scheme.length) return done(false)
  const check: Check = { scheme, data, signature, key, done }
  if (!scheme.inline) return verifyPooled(check)
  if (batch.push(check) === 1) nextTurn(runBatch)
}

/**
 * Verifies a compact JWS (already through intake: three canonical segments,
 * alg allowed) against candidate keys matched on `kid`, type and curve. The
 * first key that verifies wins: resolves with its index in `keys` (the token
 * cache remembers which key vouched for a token). One promise per token,
 * whatever the number of keys tried.
 */
export function verifySignature(token: string, alg: string, keys: readonly KeyObject[]): Promise<number> {
  const dot = token.lastIndexOf('.')
  const data = Buffer.from(token.slice(0, dot), 'latin1')
  const signature = Buffer.from(token.slice(dot + 1), 'base64url')
  return new Promise((resolve, reject) => {
    const attempt = (i: number): void => {
      if (i >= keys.length) return reject(new GuardError('ERR_JWT_SIGNATURE_INVALID', 'Invalid signature', { reason: 'signature' }))
      verifyOne(alg, data, signature, keys[i]!, (ok) => (ok ? resolve(i) : attempt(i + 1)))
    }
    attempt(0)
  })
}
