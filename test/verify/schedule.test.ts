import { constants, createHmac, createSecretKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { GuardError } from '../../src/errors.js'
import { verifySignature } from '../../src/verify/signature.js'

// How signature checks are scheduled (src/verify/signature.ts, schedule.ts):
// HMAC at once, synchronously; an asymmetric check after the current
// microtasks, inline when it is alone, with a share of overlapping checks going
// to the thread pool when a core is spare and whatever a turn's time budget
// leaves going there too. These tests hold the answers and where a lone check
// runs, not the timing: every path gives the same verdict.

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

interface Case {
  alg: string
  key: KeyObject
  sign(data: Buffer): Buffer
}

function rsa(alg: string, hash: string, pss: boolean): Case {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const padding = pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(hash.slice(3)) / 8 } : {}
  return { alg, key: publicKey, sign: (data) => sign(hash, data, { key: privateKey, ...padding }) }
}

function ec(alg: string, namedCurve: string, hash: string): Case {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve })
  return { alg, key: publicKey, sign: (data) => sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' }) }
}

function ed25519(): Case {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  return { alg: 'EdDSA', key: publicKey, sign: (data) => sign(null, data, privateKey) }
}

const CASES: Case[] = [
  rsa('RS256', 'sha256', false),
  rsa('PS384', 'sha384', true), // RSA runs inline at the end of the turn, the others on the pool
  ec('ES256', 'prime256v1', 'sha256'),
  ec('ES384', 'secp384r1', 'sha384'),
  ed25519(),
]

function token(c: Case, n: number): string {
  const data = `${b64url({ alg: c.alg, typ: 'JWT' })}.${b64url({ n })}`
  return `${data}.${c.sign(Buffer.from(data)).toString('base64url')}`
}

/** Flips one bit of the signature. */
function forged(jws: string): string {
  const dot = jws.lastIndexOf('.')
  const signature = Buffer.from(jws.slice(dot + 1), 'base64url')
  signature[0]! ^= 1
  return `${jws.slice(0, dot)}.${signature.toString('base64url')}`
}

/** `true` when the signature verifies, `false` for the library's refusal; anything else fails the test. */
async function verdict(jws: string, alg: string, keys: KeyObject[]): Promise<boolean> {
  try {
    await verifySignature(jws, alg, keys)
    return true
  } catch (err) {
    expect(err).toBeInstanceOf(GuardError)
    expect((err as GuardError).code).toBe('ERR_JWT_SIGNATURE_INVALID')
    return false
  }
}

afterEach(() => {
  vi.useRealTimers()
})

/** Taken before any test fakes the timers: a bound on how long a verdict may take. */
const realSetTimeout = setTimeout
const withinSeconds = <T>(seconds: number, answer: Promise<T>): Promise<T> =>
  Promise.race([answer, new Promise<T>((_, reject) => realSetTimeout(() => reject(new Error('no verdict')), seconds * 1000))])

describe('check scheduling', () => {
  it.each(CASES.map((c) => [c.alg, c] as const))('%s: one turn of valid and forged tokens, each gets its own verdict', async (_alg, c) => {
    const tokens = Array.from({ length: 40 }, (_, n) => (n % 3 === 0 ? forged(token(c, n)) : token(c, n)))
    // All submitted in the same turn: they share one batch.
    const verdicts = await Promise.all(tokens.map((t) => verdict(t, c.alg, [c.key])))
    expect(verdicts).toEqual(tokens.map((_, n) => n % 3 !== 0))
  })

  it('a batch larger than the turn budget spills to the thread pool and still answers every token right', async () => {
    const c = CASES[0]!
    // 1,500 RS256 checks are well over 2 ms of work on any machine: most of them take the pool path.
    const tokens = Array.from({ length: 1_500 }, (_, n) => (n % 7 === 0 ? forged(token(c, n)) : token(c, n)))
    const verdicts = await Promise.all(tokens.map((t) => verdict(t, c.alg, [c.key])))
    expect(verdicts).toEqual(tokens.map((_, n) => n % 7 !== 0))
  })

  it('tries the next candidate key in a later turn when the first does not verify', async () => {
    const c = CASES[0]!
    const other = rsa('RS256', 'sha256', false)
    const jws = token(c, 1)
    expect(await verdict(jws, 'RS256', [other.key, other.key, c.key])).toBe(true)
    expect(await verdict(jws, 'RS256', [other.key, other.key])).toBe(false)
  })

  it('a key that does not fit the algorithm refuses, inline and on the pool alike', async () => {
    const [rs, , es256, es384, ed] = CASES as [Case, Case, Case, Case, Case]
    expect(await verdict(token(rs, 1), 'RS256', [es256.key])).toBe(false)
    expect(await verdict(token(es384, 1), 'ES384', [rs.key])).toBe(false)
    expect(await verdict(token(ed, 1), 'EdDSA', [rs.key, ed.key])).toBe(true)
  })

  it('HMAC is checked synchronously: an index, or a refusal thrown at once', () => {
    const secret = createSecretKey(Buffer.alloc(32, 7))
    const other = createSecretKey(Buffer.alloc(32, 8))
    const data = `${b64url({ alg: 'HS256' })}.${b64url({ n: 1 })}`
    const jws = `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`
    expect(verifySignature(jws, 'HS256', [other, secret])).toBe(1)
    expect(() => verifySignature(forged(jws), 'HS256', [other, secret])).toThrow(
      expect.objectContaining({ code: 'ERR_JWT_SIGNATURE_INVALID' }),
    )
    // A public key under an HMAC algorithm verifies nothing (no algorithm confusion).
    expect(() => verifySignature(jws, 'HS256', [CASES[0]!.key])).toThrow(GuardError)
  })

  it.each(CASES.map((c) => [c.alg, c] as const))('%s: a lone check is answered inline, before the event loop turns', async (_alg, c) => {
    for (let n = 0; n < 20; n++) {
      // A new turn: its budget for inline checks is unspent (a serial caller that never yields pays a turn every 2 ms).
      await new Promise((resolve) => setImmediate(resolve))
      let turned = false
      const marker = setImmediate(() => (turned = true))
      expect(await verdict(n % 2 ? forged(token(c, n)) : token(c, n), c.alg, [c.key])).toBe(n % 2 === 0)
      // A check on the thread pool is heard back only in a later phase of the loop.
      expect(turned).toBe(false)
      clearImmediate(marker)
    }
  })

  it.each(CASES.map((c) => [c.alg, c] as const))(
    '%s: a lone check against one key is answered synchronously, a verdict or a throw',
    async (_alg, c) => {
      for (let n = 0; n < 6; n++) {
        await new Promise((resolve) => setImmediate(resolve)) // a quiet turn: nothing queued, nothing on the pool
        if (n % 2 === 0) expect(verifySignature(token(c, n), c.alg, [c.key])).toBe(0)
        else
          expect(() => verifySignature(forged(token(c, n)), c.alg, [c.key])).toThrow(
            expect.objectContaining({ code: 'ERR_JWT_SIGNATURE_INVALID' }),
          )
      }
    },
  )

  it("a serial caller's next check is answered at once too, until the turn's budget is spent", async () => {
    const c = CASES[0]!
    await new Promise((resolve) => setImmediate(resolve))
    let turned = false
    const marker = setImmediate(() => (turned = true))
    const answers: unknown[] = []
    // RS256 checks one after another, never yielding to the event loop: at once while the turn has time (2 ms), then
    // queued for a later turn, which lets the event loop (the marker) run.
    for (let n = 0; n < 2_000 && !turned; n++) {
      const answer = verifySignature(token(c, n), c.alg, [c.key])
      answers.push(answer)
      expect(await answer).toBe(0)
    }
    clearImmediate(marker)
    expect(typeof answers[0]).toBe('number')
    expect(typeof answers[1]).toBe('number')
    const queued = answers.findIndex((a) => a instanceof Promise)
    expect(queued).toBeGreaterThan(1)
    expect(turned).toBe(true)
  })

  it.each(CASES.map((c) => [c.alg, c] as const))('%s: checks submitted together are not all answered at once', async (_alg, c) => {
    await new Promise((resolve) => setImmediate(resolve))
    // After an answer given at once, as a serial caller's next step: the first of the batch is that caller's next check.
    expect(verifySignature(token(c, 99), c.alg, [c.key])).toBe(0)
    await null
    const tokens = Array.from({ length: 8 }, (_, n) => (n % 3 === 1 ? forged(token(c, n)) : token(c, n)))
    const answers = tokens.map((t) => {
      try {
        return verifySignature(t, c.alg, [c.key])
      } catch (err) {
        return Promise.reject(err as Error)
      }
    })
    // The first finds nothing to join; the others are queued together (overlapping checks may share the pool). The
    // first is queued too where check 99 alone spent the turn's 2 ms (ES384 on a loaded 2-core machine): the budget is
    // wall time. Counted now, asserted once all have settled, so that a failure leaves no check behind for the next case.
    const queued = answers.filter((a) => a instanceof Promise).length
    const verdicts = await Promise.all(
      answers.map((a) =>
        Promise.resolve(a).then(
          () => true,
          () => false,
        ),
      ),
    )
    expect(queued).toBeGreaterThanOrEqual(7)
    expect(verdicts).toEqual(tokens.map((_, n) => n % 3 !== 1))
  })

  it('checks the pool refuses (a key of another type) are counted back: a lone check afterwards is inline again', async () => {
    const [rs, , , , ed] = CASES as [Case, Case, Case, Case, Case]
    // Valid tokens first, to spend the turn's budget; then tokens whose first candidate is an Ed25519 key under
    // RS256, which the pool answers with an error: they go there, are refused, and their second key verifies.
    const spend = Array.from({ length: 1_500 }, (_, n) => verdict(token(rs, n), 'RS256', [rs.key]))
    const misfits = Array.from({ length: 200 }, (_, n) => verdict(token(rs, n), 'RS256', [ed.key, rs.key]))
    expect(await Promise.all([...spend, ...misfits])).toEqual(Array.from({ length: 1_700 }, () => true))
    for (let n = 0; n < 3; n++) await new Promise((resolve) => setImmediate(resolve))
    let turned = false
    const marker = setImmediate(() => (turned = true))
    expect(await verdict(token(rs, 1), 'RS256', [rs.key])).toBe(true)
    // With a check still counted on the pool, a lone check would wait for the end of the turn.
    expect(turned).toBe(false)
    clearImmediate(marker)
  })

  it('fake timers installed by a test suite (setImmediate included) do not stall verification', async () => {
    vi.useFakeTimers() // vitest's defaults fake setImmediate, as jest's do
    for (const c of CASES) {
      // Enough checks of each algorithm to spend a turn's inline budget: the next turn must still come.
      for (let n = 0; n < 80; n++) expect(await verdict(n % 2 ? forged(token(c, n)) : token(c, n), c.alg, [c.key])).toBe(n % 2 === 0)
    }
  })

  it('fake timers that move the clock (a test of expiry) still get every verdict', async () => {
    vi.useFakeTimers() // fakes `performance` too: its eventLoopUtilization() returns undefined
    for (let round = 0; round < 4; round++) {
      // An hour later each round: the scheduler's load sampling is due every time.
      vi.advanceTimersByTime(3_600_000)
      for (const c of CASES) {
        expect(await withinSeconds(10, verdict(token(c, round), c.alg, [c.key]))).toBe(true)
        expect(await withinSeconds(10, verdict(forged(token(c, round)), c.alg, [c.key]))).toBe(false)
      }
    }
  })
})
