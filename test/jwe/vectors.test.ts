import { readFileSync } from 'node:fs'
import { compactVerify, importJWK, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { GuardError } from '../../src/index.js'
import { parseToken } from '../../src/intake/token.js'
import { decryptToken, type Decrypted } from '../../src/jwe/decrypt.js'
import { ALL_CONTENT_ENCRYPTION, ALL_KEY_MANAGEMENT, type DecryptionOptions, type KeyManagementAlgorithm } from '../../src/jwe/options.js'
import { decryptionPolicy } from '../../src/jwe/policy.js'

const VECTORS = new URL('../../../shared/vectors/', import.meta.url)
const load = (path: string): any => JSON.parse(readFileSync(new URL(path, VECTORS), 'utf8'))
// The vectors' plaintexts are longer than an access token; the size cap is intake's concern, not this layer's.
const NO_SIZE_CAP = 1 << 20

/**
 * Reasons `decryptToken` gives only after the ciphertext was authenticated and
 * decrypted: it refuses what the plaintext is (not a JWT), not the encryption.
 * The decryption layer does not hand back a plaintext that is not a JWT, so
 * reaching one of these is how a vector is seen to decrypt.
 */
const AFTER_DECRYPTION = new Set(['unsigned', 'plaintext_not_json', 'plaintext_not_object', 'nested_not_jws'])

type Outcome = { decrypted: true; result?: Decrypted; reason?: string } | { decrypted: false; code: string; reason: string | undefined }

async function attempt(compact: string, options: DecryptionOptions): Promise<Outcome> {
  try {
    return { decrypted: true, result: await decryptToken(parseToken(compact, NO_SIZE_CAP), decryptionPolicy(options)) }
  } catch (err) {
    if (!(err instanceof GuardError)) throw err
    const reason = typeof err.context.reason === 'string' ? err.context.reason : undefined
    if (err.code === 'ERR_JWE_INVALID' && reason && AFTER_DECRYPTION.has(reason)) return { decrypted: true, reason }
    return { decrypted: false, code: err.code, reason }
  }
}

const decrypted = (reason: string) => ({ decrypted: true, reason })
const refusedByPolicy = (reason: string) => ({ decrypted: false, code: 'ERR_JWE_INVALID', reason })

describe('RFC 7520 §5 compact examples through the decryption layer', () => {
  const cookbook = (file: string) => load(`rfc7520-cookbook/jwe/${file}`)
  const run = (file: string, options: Partial<DecryptionOptions> = {}) => {
    const vector = cookbook(file)
    return attempt(vector.output.compact, { keys: vector.input.key as JWK, ...options })
  }

  it('§5.1 RSA1_5 fails: refused by the allow-list, and cannot be allowed', async () => {
    const file = '5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json'
    expect(await run(file)).toMatchObject(refusedByPolicy('alg'))
    await expect(run(file, { keyManagementAlgorithms: ['RSA1_5' as KeyManagementAlgorithm] })).rejects.toThrow(
      /"decryption\.keyManagementAlgorithms" must not contain RSA1_5/,
    )
  })

  it('§5.2 RSA-OAEP (SHA-1) decrypts only when listed explicitly', async () => {
    const file = '5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json'
    expect(await run(file)).toMatchObject(refusedByPolicy('alg'))
    // Its plaintext is prose, and claims outside a signature are refused with a public-key algorithm.
    expect(await run(file, { keyManagementAlgorithms: ['RSA-OAEP'] })).toEqual(decrypted('unsigned'))
  })

  it('§5.3 PBES2 is refused by policy, and cannot be allowed', async () => {
    const vector = cookbook('5_3.key_wrap_using_pbes2-aes-keywrap_with-aes-cbc-hmac-sha2.json')
    const keys = new TextEncoder().encode(vector.input.pwd)
    expect(await attempt(vector.output.compact, { keys })).toMatchObject(refusedByPolicy('alg'))
    await expect(
      attempt(vector.output.compact, { keys, keyManagementAlgorithms: ['PBES2-HS512+A256KW' as KeyManagementAlgorithm] }),
    ).rejects.toThrow(/must not contain PBES2-HS512\+A256KW/)
  })

  it('§5.4 ECDH-ES+A128KW (P-384) with A128GCM decrypts with the defaults', async () => {
    expect(await run('5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json')).toEqual(decrypted('unsigned'))
  })

  it('§5.5 ECDH-ES (P-256) with A128CBC-HS256 decrypts with the defaults', async () => {
    expect(await run('5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json')).toEqual(decrypted('unsigned'))
  })

  it('§5.6 dir with A128GCM decrypts, with or without allowUnsigned', async () => {
    const file = '5_6.direct_encryption_using_aes-gcm.json'
    expect(await run(file)).toEqual(decrypted('unsigned'))
    // Allowed to hold claims, the plaintext is then refused for not being JSON: it was decrypted.
    expect(await run(file, { keyManagementAlgorithms: ['dir'], allowUnsigned: true })).toEqual(decrypted('plaintext_not_json'))
  })

  it('§5.7 A256GCMKW decrypts only when listed explicitly', async () => {
    const file = '5_7.key_wrap_using_aes-gcm_keywrap_with_aes-cbc-hmac-sha2.json'
    expect(await run(file)).toMatchObject(refusedByPolicy('alg'))
    expect(await run(file, { keyManagementAlgorithms: ['A256GCMKW'] })).toEqual(decrypted('unsigned'))
  })

  it('§5.8 A128KW with A128GCM decrypts with the defaults', async () => {
    expect(await run('5_8.key_wrap_using_aes-keywrap_with_aes-gcm.json')).toEqual(decrypted('unsigned'))
  })

  it('§5.9 compressed content is refused by policy', async () => {
    expect(await run('5_9.compressed_content.json')).toMatchObject(refusedByPolicy('zip'))
  })

  it('§5.10–§5.13 have no compact serialization (AAD, unprotected headers, several recipients): nothing to feed a bearer guard', () => {
    for (const file of [
      '5_10.including_additional_authentication_data.json',
      '5_11.protecting_specific_header_fields.json',
      '5_12.protecting_content_only.json',
      '5_13.encrypting_to_multiple_recipients.json',
    ]) {
      expect(cookbook(file).output.compact).toBeUndefined()
    }
  })

  it('RFC 8037 X25519 ECDH-ES with A128GCM decrypts with the defaults', async () => {
    const vector = load('rfc7520-cookbook/curve25519/ecdh-es.json')
    expect(await attempt(vector.output.compact, { keys: vector.input.key as JWK })).toEqual(decrypted('unsigned'))
  })
})

describe('RFC 7520 §6: a JWE wrapping a signed JWT', () => {
  const vector = load('rfc7520-cookbook/6.nesting_signatures_and_encryption.json')

  it('decrypts to the §6 JWS, whose signature verifies with the §6 signing key', async () => {
    const outcome = await attempt(vector.encrypt.output.compact, { keys: vector.encrypt.input.key, keyManagementAlgorithms: ['RSA-OAEP'] })
    expect(outcome).toEqual({ decrypted: true, result: { kind: 'nested', jws: vector.sign.output.compact } })
    const { n, e } = vector.sign.input.key as JWK
    const verified = await compactVerify(vector.sign.output.compact, await importJWK({ kty: 'RSA', n, e }, 'PS256'))
    expect(verified.protectedHeader).toEqual({ alg: 'PS256', typ: 'JWT' })
    expect(new TextDecoder().decode(verified.payload)).toBe(vector.sign.input.payload)
  })

  it('is refused under the default allow-list (RSA-OAEP uses SHA-1)', async () => {
    expect(await attempt(vector.encrypt.output.compact, { keys: vector.encrypt.input.key })).toMatchObject(refusedByPolicy('alg'))
  })
})

describe('Wycheproof json_web_encryption_test.json', () => {
  interface Test {
    tcId: number
    comment: string
    jwe: string
    result: 'valid' | 'invalid' | 'acceptable'
    flags: string[]
  }
  const file = load('wycheproof/json_web_encryption_test.json') as { testGroups: { private: JWK; tests: Test[] }[] }
  // Everything jwtguard can be configured to accept: RSA1_5 and PBES2 are not among them.
  const permissive = (keys: JWK): DecryptionOptions => ({
    keys,
    keyManagementAlgorithms: [...ALL_KEY_MANAGEMENT] as KeyManagementAlgorithm[],
    contentEncryptionAlgorithms: [...ALL_CONTENT_ENCRYPTION] as DecryptionOptions['contentEncryptionAlgorithms'],
  })
  const headerOf = (jwe: string): Record<string, unknown> => {
    try {
      return JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString())
    } catch {
      return {}
    }
  }
  const allowedAlg = (header: Record<string, unknown>) => ALL_KEY_MANAGEMENT.has(String(header.alg)) && header.zip === undefined

  const run = async () => {
    const results: { test: Test; outcome: Outcome }[] = []
    for (const group of file.testGroups) {
      for (const test of group.tests) results.push({ test, outcome: await attempt(test.jwe, permissive(group.private)) })
    }
    return results
  }
  let results: Awaited<ReturnType<typeof run>>
  const tally = (pick: (r: (typeof results)[number]) => boolean) => {
    const counts: Record<string, number> = {}
    for (const { outcome } of results.filter(pick)) {
      const key = outcome.decrypted ? 'decrypted' : outcome.code === 'ERR_JWE_INVALID' ? `policy:${outcome.reason}` : outcome.code
      counts[key] = (counts[key] ?? 0) + 1
    }
    return counts
  }

  beforeAll(async () => {
    results = await run()
  })

  it('runs all 139 cases', () => {
    expect(results).toHaveLength(139)
    expect(results.filter((r) => r.test.result === 'acceptable')).toHaveLength(0)
  })

  const invalid = (r: (typeof results)[number]) => r.test.result === 'invalid' && !r.test.flags.includes('WrongCipher')
  const valid = (allowed: boolean) => (r: (typeof results)[number]) =>
    r.test.result === 'valid' && allowedAlg(headerOf(r.test.jwe)) === allowed

  it('no invalid case yields a plaintext: each is refused at intake, by policy (RSA1_5), or as the generic failure', () => {
    const accepted = results.filter((r) => invalid(r) && r.outcome.decrypted).map((r) => r.test.tcId)
    expect(accepted).toEqual([])
    // Intake: missing parts, wrong segment count, a non-canonical tag (tc3, tc24), no header or "Alg" for "alg".
    expect(tally(invalid)).toEqual({ ERR_JWT_MALFORMED: 22, 'policy:alg': 22, ERR_JWE_DECRYPTION_FAILED: 26 })
  })

  // A private JWK's own "alg" restricts it: an A128GCMKW key must not unwrap an A128KW token (tc106-109).
  it('keys are not used with an algorithm their JWK "alg" excludes (WrongCipher)', () => {
    const wrongCipher = results.filter((r) => r.test.flags.includes('WrongCipher'))
    expect(wrongCipher.map((r) => r.test.tcId)).toEqual([106, 107, 108, 109])
    expect(wrongCipher.filter((r) => r.outcome.decrypted).map((r) => r.test.tcId)).toEqual([])
  })

  it('valid cases with algorithms we allow decrypt', () => {
    expect(results.filter((r) => valid(true)(r) && !r.outcome.decrypted).map((r) => r.test.tcId)).toEqual([])
    expect(tally(valid(true))).toEqual({ decrypted: 56 })
  })

  it('valid cases with RSA1_5 (8) or zip (1) are refused by policy', () => {
    expect(tally(valid(false))).toEqual({ 'policy:alg': 8, 'policy:zip': 1 })
  })
})
