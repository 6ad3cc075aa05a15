import { createSecretKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { GuardError } from '../../src/errors.js'
import { createGuard, type Guard } from '../../src/guard.js'
import { DEFAULT_MAX_TOKEN_LENGTH, decodeJsonSegment, parseToken } from '../../src/intake/token.js'
import { KeySet, unusableReason } from '../../src/keys/jwk.js'
import { importPublicKey } from '../../src/keys/import.js'
import type { VerifyKey } from '../../src/keys/sources.js'
import type { JwsAlgorithm } from '../../src/options.js'
import { verifySignature } from '../../src/verify/signature.js'

// Third-party vectors, unchanged, next to the repository (see their README.md).
const VECTORS = new URL('../../../shared/vectors/', import.meta.url)
const loadVector = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, VECTORS), 'utf8')) as T

interface WycheproofTest {
  tcId: number
  comment: string
  jws: string
  result: 'valid' | 'invalid'
}
interface WycheproofGroup<K> {
  comment: string
  public?: K
  private: K
  tests: WycheproofTest[]
}
type KeyGroup = WycheproofGroup<{ keys: JWK[] }>

const ISSUER = 'https://issuer.example'
const AUDIENCE = 'https://api.example'

/** Reasons for which intake refuses only the payload: the vectors sign "foo", not JWT claims. */
const PAYLOAD_REASONS = new Set(['payload_not_json', 'payload_not_object'])

function payloadOnly(jws: string, err: GuardError): boolean {
  const reason = String(err.context.reason)
  const [, payload, signature] = jws.split('.')
  return PAYLOAD_REASONS.has(reason) || (reason === 'jws_part_missing' && payload === '' && signature !== '')
}

/**
 * What our intake and signature check make of a JWS, setting aside that its payload is no claims set:
 * `'verified'`, or where it was refused.
 */
async function jwsLayer(jws: string, alg: string, key: VerifyKey): Promise<string> {
  try {
    parseToken(jws, DEFAULT_MAX_TOKEN_LENGTH)
  } catch (err) {
    if (!(err instanceof GuardError) || !payloadOnly(jws, err)) return `intake:${(err as GuardError).context.reason}`
  }
  if (decodeJsonSegment(jws.split('.')[0]!, 'header').alg !== alg) return 'alg_not_allowed'
  try {
    await verifySignature(jws, alg, [key])
    return 'verified'
  } catch (err) {
    return `signature:${(err as GuardError).code}`
  }
}

/** How the public guard refuses a JWS that is fine but whose payload is not an access token. */
async function expectNotAClaimsSet(guard: Guard, jws: string): Promise<void> {
  const err = await guard.verify(jws).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(GuardError)
  const code = (err as GuardError).code
  if (code === 'ERR_JWT_MALFORMED') expect(payloadOnly(jws, err as GuardError)).toBe(true)
  else expect(['ERR_JWT_ISSUER_INVALID', 'ERR_JWT_AUDIENCE_INVALID', 'ERR_JWT_CLAIM_MISSING', 'ERR_JWT_CLAIM_INVALID']).toContain(code)
}

// Wycheproof names ES512 (P-521) "ES521" in the RFC 7520 groups; our import rightly refuses an unknown `alg`
// (checked below), so those keys are used under the registered name.
const registered = (jwk: JWK): JWK => (jwk.alg === 'ES521' && jwk.crv === 'P-521' ? { ...jwk, alg: 'ES512' } : jwk)
const algOf = (jwk: JWK): JwsAlgorithm => (jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : 'RS256')) as JwsAlgorithm
const keyOf = (jwk: JWK): VerifyKey =>
  jwk.kty === 'oct' ? createSecretKey(Buffer.from(jwk.k!, 'base64url')) : importPublicKey(jwk, 'publicKey')

function guardFor(jwk: JWK): Guard {
  const source = jwk.kty === 'oct' ? { secret: Buffer.from(jwk.k!, 'base64url') } : { publicKey: jwk }
  return createGuard({ issuer: ISSUER, audience: AUDIENCE, algorithms: [algOf(jwk)], ...source })
}

describe('Wycheproof json_web_signature_test.json', () => {
  const groups = loadVector<{ testGroups: WycheproofGroup<JWK>[] }>('wycheproof/json_web_signature_test.json').testGroups
  // README: tc367 and tc370 are byte-identical to the valid tc357 but marked invalid.
  const DEFECTIVE = new Set([367, 370])
  // Marked valid because lenient decoders skip the "?" inside a segment; our intake refuses it.
  const LENIENT_ONLY = new Set([372, 373])
  // RFC 7520 §4.2 signs with PS384, but these groups label the key "alg": "PS256"; a key's alg binds.
  const KEY_ALG_CONFLICT = new Set([346, 350])

  it('has the tests the README announces', () => {
    expect(groups.flatMap((g) => g.tests)).toHaveLength(401)
  })

  it('refuses "ES521" as a key alg: it names no algorithm', () => {
    const p521 = groups.find((g) => g.public?.alg === 'ES521')!.public!
    expect(unusableReason(p521)).toBe('alg_mismatch')
  })

  describe.each(groups.map((g) => [`${g.comment} tc${g.tests[0]!.tcId}-${g.tests.at(-1)!.tcId}`, g] as const))('%s', (_, group) => {
    const jwk = registered(group.public ?? group.private)
    const alg = algOf(jwk)
    const tests = group.tests.filter((t) => !DEFECTIVE.has(t.tcId))
    const refusedKey = jwk.kty === 'oct' ? undefined : unusableReason(jwk)

    if (refusedKey) {
      it(`refuses the key itself (${refusedKey}), so none of its tests can verify`, () => {
        expect(tests.every((t) => t.result === 'invalid')).toBe(true)
        expect(() => guardFor(jwk)).toThrow(/option "publicKey" is not a usable public key/)
      })
      return
    }

    it('never accepts an invalid JWS, through the guard or at the signature level', async () => {
      const guard = guardFor(jwk)
      const accepted: string[] = []
      for (const t of tests.filter((test) => test.result === 'invalid')) {
        const err = await guard.verify(t.jws).then(
          () => undefined,
          (e: unknown) => e,
        )
        if (!(err instanceof GuardError)) accepted.push(`tc${t.tcId} guard: ${String(err)}`)
        if ((await jwsLayer(t.jws, alg, keyOf(jwk))) === 'verified') accepted.push(`tc${t.tcId} ${t.comment}: signature verified`)
      }
      expect(accepted).toEqual([])
    })

    it('verifies every valid JWS at the signature level; the guard then refuses only its payload', async () => {
      const guard = guardFor(jwk)
      for (const t of tests.filter((test) => test.result === 'valid' && !LENIENT_ONLY.has(test.tcId) && !KEY_ALG_CONFLICT.has(test.tcId))) {
        expect({ tcId: t.tcId, outcome: await jwsLayer(t.jws, alg, keyOf(jwk)) }).toEqual({ tcId: t.tcId, outcome: 'verified' })
        await expectNotAClaimsSet(guard, t.jws)
      }
    })

    const conflicting = tests.filter((t) => KEY_ALG_CONFLICT.has(t.tcId))
    if (conflicting.length > 0) {
      it('refuses the "valid" tc346/tc350: a PS384 JWS for a key whose alg is PS256', async () => {
        for (const t of conflicting) {
          expect(await jwsLayer(t.jws, alg, keyOf(jwk))).toBe('alg_not_allowed')
          expect(KeySet.from({ keys: [jwk] })!.candidates('PS384', jwk.kid)).toEqual([])
          // Under the algorithm it names, the signature itself is sound.
          expect(await jwsLayer(t.jws, 'PS384', keyOf(jwk))).toBe('verified')
        }
      })
    }

    const lenient = tests.filter((t) => LENIENT_ONLY.has(t.tcId))
    if (lenient.length > 0) {
      it('refuses the "valid" tc372/tc373 at intake: a "?" inside a segment is not base64url', async () => {
        for (const t of lenient) {
          const err = await guardFor(jwk)
            .verify(t.jws)
            .catch((e: unknown) => e)
          expect(err).toMatchObject({ code: 'ERR_JWT_MALFORMED', context: { reason: 'not_base64url' } })
        }
      })
    }
  })
})

describe('Wycheproof json_web_key_test.json: which keys our rules drop', () => {
  const groups = loadVector<{ testGroups: KeyGroup[] }>('wycheproof/json_web_key_test.json').testGroups
  const byTest = (tcId: number): KeyGroup => groups.find((g) => g.tests.some((t) => t.tcId === tcId))!
  const reasons = (keys: JWK[]) => keys.map((k) => unusableReason(k) ?? 'usable')

  it.each([
    [5, 'a 2048-bit RS256 key', ['usable']],
    [6, 'an RSA1_5 key with use "enc"', ['not_for_signatures']],
    [8, 'a 1024-bit RSA key', ['rsa_too_small']],
    [9, 'an RSA key with e = 1', ['rsa_exponent']],
    [19, 'a P-256 key labelled ES521', ['alg_mismatch']],
    [20, 'a P-256 key labelled ES224', ['alg_mismatch']],
    [21, 'an EC key with use "enc"', ['not_for_signatures']],
    [23, 'P-256 coordinates labelled P-384', ['alg_mismatch']],
    [24, 'EC members labelled kty RSA', ['alg_mismatch']],
  ])('tc%i, %s: %j', (tcId, _, expected) => {
    const keys = byTest(tcId).public!.keys
    expect(reasons(keys)).toEqual(expected)
    const dropped: string[] = []
    expect(KeySet.from({ keys }, (_kid, reason) => dropped.push(reason))!.size).toBe(expected.filter((r) => r === 'usable').length)
    expect(dropped).toEqual(expected.filter((r) => r !== 'usable'))
  })

  it('drops an RSA key with e = 3 (built from the tc5 key)', () => {
    expect(unusableReason({ ...byTest(5).public!.keys[0]!, e: 'Aw' })).toBe('rsa_exponent')
  })

  it('drops every private key, and every oct key (HMAC, AES, short, long or empty)', () => {
    const secretKeys = groups.flatMap((g) => g.private.keys).filter((k) => k.kty === 'oct' || k.d !== undefined)
    expect(secretKeys).toHaveLength(27)
    for (const key of secretKeys) {
      expect([key.kid, unusableReason(key)]).toEqual([key.kid, key.kty === 'oct' ? 'symmetric_key' : 'private_key'])
    }
  })

  it('keeps the public half of a mixed set (tc1) and drops its oct key', () => {
    const set = KeySet.from(byTest(1).private)!
    expect(set.size).toBe(1)
    expect(set.kids()).toEqual(['kid-ec-sign'])
  })

  it('keeps a key whose point is not on its curve (tc22) but never offers it: import fails', () => {
    const keys = byTest(22).public!.keys
    expect(unusableReason(keys[0])).toBeUndefined()
    expect(KeySet.from({ keys })!.candidates('ES256', 'kid-ec-sign')).toEqual([])
  })

  it('refuses HMAC secrets shorter than the hash (tc10-12) or empty (tc16-18) at construction', () => {
    for (const tcId of [10, 11, 12, 16, 17, 18]) {
      expect(() => guardFor(byTest(tcId).private.keys[0]!)).toThrow(/option "secret"/)
    }
  })

  it('verifies the valid JWS of tc5 and of the long HMAC keys (tc13-15) at the signature level', async () => {
    for (const tcId of [5, 13, 14, 15]) {
      const group = byTest(tcId)
      const jwk = (group.public ?? group.private).keys[0]!
      const test = group.tests.find((t) => t.tcId === tcId)!
      expect([tcId, await jwsLayer(test.jws, algOf(jwk), keyOf(jwk))]).toEqual([tcId, 'verified'])
    }
  })

  // Outside our contract (and jose's): ROCA-weak moduli (CVE-2017-15361) are not fingerprinted.
  it('does not detect the ROCA-vulnerable key of tc7: it is kept and its JWS verifies', async () => {
    const group = byTest(7)
    const jwk = group.public!.keys[0]!
    expect(unusableReason(jwk)).toBeUndefined()
    expect(await jwsLayer(group.tests[0]!.jws, 'RS256', keyOf(jwk))).toBe('verified')
  })
})

describe('RFC 7520 (JOSE Cookbook)', () => {
  interface CookbookJws {
    input: { alg: JwsAlgorithm }
    output: { compact?: string; json_flat: { protected: string; payload: string; signature: string } }
  }
  const rsa = loadVector<JWK>('rfc7520-cookbook/jwk/3_3.rsa_public_key.json')
  const ec = loadVector<JWK>('rfc7520-cookbook/jwk/3_1.ec_public_key.json')
  const hmac = loadVector<JWK>('rfc7520-cookbook/jwk/3_5.symmetric_key_mac_computation.json')

  it.each([
    ['4_1.rsa_v15_signature.json', rsa],
    ['4_2.rsa-pss_signature.json', rsa],
    ['4_3.ecdsa_signature.json', ec],
    ['4_4.hmac-sha2_integrity_protection.json', hmac],
  ])('§%s: the compact output verifies with the published key', async (file, jwk) => {
    const { input, output } = loadVector<CookbookJws>(`rfc7520-cookbook/jws/${file}`)
    const compact = output.compact!
    expect(await jwsLayer(compact, input.alg, keyOf(jwk))).toBe('verified')
    // One byte less of signature must not verify (the check above is not vacuous).
    expect(await jwsLayer(compact.slice(0, -2), input.alg, keyOf(jwk))).not.toBe('verified')
    const source = jwk.kty === 'oct' ? { secret: Buffer.from(jwk.k!, 'base64url') } : { publicKey: jwk }
    await expectNotAClaimsSet(createGuard({ issuer: ISSUER, audience: AUDIENCE, algorithms: [input.alg], ...source }), compact)
  })

  it.each([
    ['hmac-sha2_b64_false.json', 'not_base64url'],
    // JSON only in RFC 7797 §4.2: its compact spelling holds the "." of "$.02", so it has four segments.
    ['4.2.hmac-sha2_b64_false.json', 'segment_count'],
  ])('RFC 7797 %s (b64:false) is refused', async (file, reason) => {
    const { input, output } = loadVector<CookbookJws & { input: { key: JWK } }>(`rfc7520-cookbook/rfc7797/${file}`)
    const flat = output.json_flat
    const compact = output.compact ?? `${flat.protected}.${flat.payload}.${flat.signature}`
    const guard = createGuard({ issuer: ISSUER, audience: AUDIENCE, secret: Buffer.from(input.key.k!, 'base64url'), algorithms: ['HS256'] })
    const err = await guard.verify(compact).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GuardError)
    expect(err).toMatchObject({ code: 'ERR_JWT_MALFORMED', status: 401, context: { reason } })
  })
})
