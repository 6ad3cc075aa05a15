import { createCipheriv, createPublicKey, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { deflateRawSync } from 'node:zlib'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type DecryptionOptions, type GuardError, type KeyManagementAlgorithm } from '../../src/index.js'
import { MAX_CANDIDATES } from '../../src/keys/jwk.js'
import { createTestIssuer, type EncryptOptions, type TestIssuer } from '../../src/testing/index.js'
import { b64, editSegment, encryptionKey, flipLastBit, refusal, type EncryptionKey } from './fixtures.js'

let issuer: TestIssuer
let other: TestIssuer
let rsa: EncryptionKey
let p256: EncryptionKey
let p384: EncryptionKey
let x25519: EncryptionKey
let rsaSpares: EncryptionKey[]
/** Shared secrets by size in bytes: 16/32 for A128KW/A256KW, and one per `dir` content encryption. */
const secrets = Object.fromEntries([16, 24, 32, 48, 64].map((n) => [n, new Uint8Array(randomBytes(n))])) as Record<number, Uint8Array>

beforeAll(async () => {
  ;[issuer, other] = await Promise.all([createTestIssuer(), createTestIssuer()])
  rsa = encryptionKey('rsa')
  p256 = encryptionKey('P-256')
  p384 = encryptionKey('P-384')
  x25519 = encryptionKey('x25519')
  rsaSpares = Array.from({ length: MAX_CANDIDATES }, () => encryptionKey('rsa'))
})
afterAll(async () => {
  await Promise.all([issuer?.close(), other?.close()])
})

const guardWith = (decryption?: DecryptionOptions) =>
  createGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri, ...(decryption ? { decryption } : {}) })
const signingKid = (alg: string): string => issuer.jwks().keys.find((k) => k.alg === alg)!.kid!
const now = () => Math.floor(Date.now() / 1000)
const nested = (encrypt: EncryptOptions, claims?: Record<string, unknown>) => issuer.signEncrypted(claims, encrypt)
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: issuer.issuer,
  aud: issuer.audience,
  sub: 'user-123',
  iat: now(),
  exp: now() + 600,
  ...extra,
})

/** A nested token was accepted: claims from the inner JWS, `header` is the inner JWS header (not the JWE one). */
function expectNested(auth: { encrypted: boolean; header: unknown; payload: { sub?: unknown } }, alg = 'RS256'): void {
  expect(auth.encrypted).toBe(true)
  expect(auth.header).toEqual({ alg, kid: signingKid(alg) })
  expect(auth.payload.sub).toBe('user-123')
}

const DEFAULT_ENCS = ['A128GCM', 'A256GCM', 'A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512'] as const
const CEK_BYTES: Record<(typeof DEFAULT_ENCS)[number], number> = {
  A128GCM: 16,
  A256GCM: 32,
  'A128CBC-HS256': 32,
  'A192CBC-HS384': 48,
  'A256CBC-HS512': 64,
}

describe('nested JWT: every default key management algorithm with every default content encryption', () => {
  type Target = { alg: string; keyName: string; kid: string; key: () => JWK | Uint8Array }
  const asymmetric = (alg: string, keyName: string, key: () => EncryptionKey): Target => ({
    alg,
    keyName,
    kid: keyName,
    key: () => key().publicJwk,
  })
  const targets: Target[] = [
    ...['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512'].map((alg) => asymmetric(alg, 'rsa', () => rsa)),
    ...['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW'].flatMap((alg) => [
      asymmetric(alg, 'P-256', () => p256),
      asymmetric(alg, 'P-384', () => p384),
      asymmetric(alg, 'X25519', () => x25519),
    ]),
    { alg: 'A128KW', keyName: '16-byte secret', kid: 'oct-16', key: () => secrets[16]! },
    { alg: 'A256KW', keyName: '32-byte secret', kid: 'oct-32', key: () => secrets[32]! },
  ]
  const cases = [
    ...targets.flatMap((t) => DEFAULT_ENCS.map((enc) => ({ ...t, enc }))),
    ...DEFAULT_ENCS.map((enc) => ({
      alg: 'dir',
      enc,
      keyName: `${CEK_BYTES[enc]}-byte secret`,
      kid: `oct-${CEK_BYTES[enc]}`,
      key: () => secrets[CEK_BYTES[enc]]!,
    })),
  ]
  // One guard holds every key; the JWE `kid` picks it (a 32-byte secret serves A256KW, dir+A256GCM and dir+A128CBC-HS256).
  const guard = () =>
    guardWith({
      keys: [
        { kid: 'rsa', key: rsa.privateKey },
        { kid: 'P-256', key: p256.privateKey },
        { kid: 'P-384', key: p384.privateKey },
        { kid: 'X25519', key: x25519.privateKey },
        ...[16, 32, 48, 64].map((n) => ({ kid: `oct-${n}`, key: secrets[n]! })),
      ],
    })
  let all: ReturnType<typeof guard>
  beforeAll(() => {
    all = guard()
  })

  it.each(cases)('$alg + $enc with a $keyName', async ({ alg, enc, kid, key }) => {
    const auth = await all.verify(await nested({ key: key(), alg, enc, kid }))
    expectNested(auth)
  })

  it('keeps the inner header of ES256 and EdDSA inner tokens', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const token = await issuer.signEncrypted(undefined, { key: rsa.publicJwk, kid: 'rsa' }, { alg })
      expectNested(await all.verify(token), alg)
    }
  })
})

describe('decryption keys in every accepted form', () => {
  it('a private JWK with its kid', async () => {
    const guard = guardWith({ keys: { ...rsa.privateJwk, kid: 'jwk-1' } })
    expectNested(await guard.verify(await nested({ key: rsa.publicJwk, kid: 'jwk-1' })))
  })

  it('a PEM string (tokens without kid)', async () => {
    const guard = guardWith({ keys: p256.pem })
    expectNested(await guard.verify(await nested({ key: p256.publicJwk, alg: 'ECDH-ES+A256KW', enc: 'A128GCM' })))
  })

  it('a KeyObject', async () => {
    const guard = guardWith({ keys: x25519.privateKey })
    expectNested(await guard.verify(await nested({ key: x25519.publicJwk, alg: 'ECDH-ES', enc: 'A256GCM' })))
  })

  it('{ kid, key }: the kid selects it and another kid is refused', async () => {
    const guard = guardWith({ keys: [{ kid: 'pem-1', key: rsa.pem }] })
    expectNested(await guard.verify(await nested({ key: rsa.publicJwk, kid: 'pem-1' })))
    await refusal(guard.verify(await nested({ key: rsa.publicJwk, kid: 'pem-2' })), 'ERR_JWE_DECRYPTION_FAILED')
  })

  it('a JWKS holding several keys', async () => {
    const guard = guardWith({
      keys: {
        keys: [
          { ...rsa.privateJwk, kid: 'a' },
          { ...p384.privateJwk, kid: 'b' },
        ],
      },
    })
    expectNested(await guard.verify(await nested({ key: rsa.publicJwk, kid: 'a' })))
    expectNested(await guard.verify(await nested({ key: p384.publicJwk, alg: 'ECDH-ES+A128KW', kid: 'b' })))
  })

  it('a Uint8Array secret, for A256KW and dir', async () => {
    const guard = guardWith({ keys: secrets[32]! })
    expectNested(await guard.verify(await nested({ key: secrets[32]!, alg: 'A256KW' })))
    expectNested(await guard.verify(await nested({ key: secrets[32]!, alg: 'dir', enc: 'A256GCM' })))
  })

  it('a public key is refused at construction, naming the option', () => {
    expect(() => guardWith({ keys: [rsa.privateKey, rsa.publicJwk] })).toThrow(
      new TypeError('jwtguard: option "decryption.keys[1]" is not a usable decryption key (private key, JWK or secret)'),
    )
    expect(() => guardWith({ keys: [createPublicKey(rsa.privateKey)] })).toThrow(
      new TypeError('jwtguard: option "decryption.keys[0]" is a public key: decryption needs the private key'),
    )
  })
})

describe('what a private JWK says about its own use', () => {
  it('a JWK with alg RSA-OAEP-512 is not used for an RSA-OAEP-256 token', async () => {
    const guard = guardWith({ keys: { ...rsa.privateJwk, kid: 'k', alg: 'RSA-OAEP-512' } })
    await refusal(guard.verify(await nested({ key: rsa.publicJwk, alg: 'RSA-OAEP-256', kid: 'k' })), 'ERR_JWE_DECRYPTION_FAILED')
  })

  it('a JWK with use "sig" never decrypts: skipped in a JWKS, refused at construction on its own', async () => {
    const other = await generateKeyPair('RSA-OAEP-256', { extractable: true })
    const guard = guardWith({
      keys: {
        keys: [
          { ...rsa.privateJwk, kid: 'k', use: 'sig' },
          { ...(await exportJWK(other.privateKey)), kid: 'k2', use: 'enc' },
        ],
      },
    })
    await refusal(guard.verify(await nested({ key: rsa.publicJwk, kid: 'k' })), 'ERR_JWE_DECRYPTION_FAILED')
    expect(() => guardWith({ keys: { ...rsa.privateJwk, kid: 'k', use: 'sig' } })).toThrow(/decryption\.keys\[0\]/)
    expect(() => guardWith({ keys: { keys: [{ ...rsa.privateJwk, use: 'sig' }] } })).toThrow(/at least one encryption key/)
  })

  it('a JWK whose alg matches is used', async () => {
    const guard = guardWith({ keys: { ...rsa.privateJwk, kid: 'k', alg: 'RSA-OAEP-256', use: 'enc' } })
    expectNested(await guard.verify(await nested({ key: rsa.publicJwk, alg: 'RSA-OAEP-256', kid: 'k' })))
  })
})

describe('no kid in the JWE header: each fitting key is tried, bounded', () => {
  const noKid = () => nested({ key: rsa.publicJwk })

  it('finds the right key when it is the last of three', async () => {
    const guard = guardWith({ keys: [rsaSpares[0]!.pem, rsaSpares[1]!.pem, rsa.pem] })
    expectNested(await guard.verify(await noKid()))
  })

  it(`tries at most ${MAX_CANDIDATES} keys: the right one just past the bound is never reached`, async () => {
    const within = guardWith({ keys: [...rsaSpares.slice(1).map((k) => k.pem), rsa.pem] })
    expectNested(await within.verify(await noKid()))
    const beyond = guardWith({ keys: [...rsaSpares.map((k) => k.pem), rsa.pem] })
    await refusal(beyond.verify(await noKid()), 'ERR_JWE_DECRYPTION_FAILED')
  })

  it('does not try keys that cannot fit the algorithm (an EC key for RSA-OAEP)', async () => {
    // Only the RSA key fits, so it is the one candidate even behind many EC keys.
    const guard = guardWith({ keys: [p256.pem, p384.pem, x25519.pem, p256.privateKey, p384.privateKey, rsa.pem] })
    expectNested(await guard.verify(await noKid()))
  })
})

describe('rotation', () => {
  let oldKey: EncryptionKey
  let newKey: EncryptionKey
  beforeAll(() => {
    ;[oldKey, newKey] = [rsaSpares[0]!, rsaSpares[1]!]
  })
  const tokens = async () => ({
    oldKid: await nested({ key: oldKey.publicJwk, kid: 'enc-2024' }),
    newKid: await nested({ key: newKey.publicJwk, kid: 'enc-2025' }),
    oldNoKid: await nested({ key: oldKey.publicJwk }),
    newNoKid: await nested({ key: newKey.publicJwk }),
  })

  it('tokens for the old and the new key both verify while both are configured', async () => {
    const guard = guardWith({
      keys: [
        { kid: 'enc-2025', key: newKey.privateKey },
        { kid: 'enc-2024', key: oldKey.privateKey },
      ],
    })
    for (const token of Object.values(await tokens())) expectNested(await guard.verify(token))
  })

  it('once the old key is removed its tokens are refused, the new ones still verify', async () => {
    const guard = guardWith({ keys: [{ kid: 'enc-2025', key: newKey.privateKey }] })
    const t = await tokens()
    expectNested(await guard.verify(t.newKid))
    expectNested(await guard.verify(t.newNoKid))
    await refusal(guard.verify(t.oldKid), 'ERR_JWE_DECRYPTION_FAILED')
    await refusal(guard.verify(t.oldNoKid), 'ERR_JWE_DECRYPTION_FAILED')
  })
})

describe('the inner JWS goes through the full JWS policy', () => {
  const guard = () => guardWith({ keys: rsa.privateKey })
  const wrap = (jws: string) => issuer.encrypt(jws, { key: rsa.publicJwk })

  it('an expired inner token', async () => {
    const token = await nested({ key: rsa.publicJwk }, { iat: now() - 7200, exp: now() - 3600 })
    await refusal(guard().verify(token), 'ERR_JWT_EXPIRED')
  })

  it('an inner token claiming another issuer, or really signed by another issuer', async () => {
    await refusal(guard().verify(await nested({ key: rsa.publicJwk }, { iss: 'https://evil.example' })), 'ERR_JWT_ISSUER_INVALID')
    await refusal(guard().verify(await other.signEncrypted(undefined, { key: rsa.publicJwk })), 'ERR_JWT_ISSUER_INVALID')
  })

  it('an inner token for another audience', async () => {
    await refusal(guard().verify(await nested({ key: rsa.publicJwk }, { aud: 'https://other-api.test' })), 'ERR_JWT_AUDIENCE_INVALID')
  })

  it('an inner token signed by a key the issuer does not publish', async () => {
    const { privateKey } = await generateKeyPair('RS256')
    const forge = (kid: string | null) => issuer.sign(undefined, { key: privateKey, kid })
    // The issuer's own kid: the signature does not verify.
    await refusal(guard().verify(await wrap(await forge(signingKid('RS256')))), 'ERR_JWT_SIGNATURE_INVALID')
    // An unknown kid: no key matches.
    await refusal(guard().verify(await wrap(await forge('forged'))), 'ERR_JWKS_NO_MATCHING_KEY')
  })

  it('an inner alg "none", with an empty or a filled signature', async () => {
    const unsigned = `${b64({ alg: 'none' })}.${b64(claims())}`
    await refusal(guard().verify(await wrap(`${unsigned}.`)), 'ERR_JWE_INVALID')
    await refusal(guard().verify(await wrap(`${unsigned}.${b64('sig')}`)), 'ERR_JWT_ALG_NOT_ALLOWED')
  })

  it('an inner HS256 token on a guard with public keys', async () => {
    await refusal(
      guard().verify(await issuer.signEncrypted(undefined, { key: rsa.publicJwk }, { alg: 'HS256' })),
      'ERR_JWT_ALG_NOT_ALLOWED',
    )
  })

  it('a JWE inside the JWE (no inner signature at all)', async () => {
    await refusal(guard().verify(await wrap(await nested({ key: rsa.publicJwk }))), 'ERR_JWE_INVALID')
  })

  it('an inner plaintext that is not a JWS although cty says JWT', async () => {
    await refusal(guard().verify(await wrap(JSON.stringify(claims()))), 'ERR_JWE_INVALID')
  })
})

/** A JWE made by hand (dir + A256GCM) for headers jose 6 will not produce, such as `zip`. */
function dirA256Gcm(header: Record<string, unknown>, plaintext: Buffer, key: Uint8Array): string {
  const protectedHeader = b64({ alg: 'dir', enc: 'A256GCM', ...header })
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(protectedHeader, 'ascii'))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  const [ivPart, ciphertextPart, tagPart] = [iv, ciphertext, cipher.getAuthTag()].map((bytes) => bytes.toString('base64url'))
  return `${protectedHeader}..${ivPart}.${ciphertextPart}.${tagPart}`
}

/** A JWE with this header and random other segments: it must be refused from the header alone. */
const headerOnly = (header: Record<string, unknown>) =>
  [b64(header), ...[256, 12, 64, 16].map((n) => randomBytes(n).toString('base64url'))].join('.')

const COOKBOOK = new URL('../../../shared/vectors/rfc7520-cookbook/jwe/', import.meta.url)

describe('refusals', () => {
  it('RSA1_5: the RFC 7520 §5.1 token, with its key configured, and as an option', async () => {
    const vector = JSON.parse(readFileSync(new URL('5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json', COOKBOOK), 'utf8'))
    const guard = guardWith({ keys: vector.input.key as JWK })
    const err = await refusal(guard.verify(vector.output.compact as string), 'ERR_JWE_INVALID')
    expect(err.message).toBe('Encryption algorithm not allowed')
    expect(() => guardWith({ keys: rsa.privateKey, keyManagementAlgorithms: ['RSA1_5' as KeyManagementAlgorithm] })).toThrow(
      /option "decryption\.keyManagementAlgorithms" must not contain RSA1_5/,
    )
  })

  it('PBES2 with p2c 2,000,000,000 is refused by the allow-list before any work', async () => {
    const token = headerOnly({ alg: 'PBES2-HS256+A128KW', enc: 'A128GCM', p2c: 2_000_000_000, p2s: randomBytes(16).toString('base64url') })
    // Even with a secret that a PBES2 password could be.
    const err = await refusal(guardWith({ keys: [rsa.privateKey, secrets[16]!] }).verify(token), 'ERR_JWE_INVALID')
    expect(err.message).toBe('Encryption algorithm not allowed')
    expect(() => guardWith({ keys: secrets[16]!, keyManagementAlgorithms: ['PBES2-HS256+A128KW' as KeyManagementAlgorithm] })).toThrow(
      /option "decryption\.keyManagementAlgorithms" must not contain PBES2/,
    )
  })

  it('zip: DEF, although the token decrypts with the configured key', async () => {
    const guard = guardWith({ keys: secrets[32]! })
    const jws = Buffer.from(await issuer.sign())
    // The hand-made JWE is sound: without `zip` the same construction verifies.
    expectNested(await guard.verify(dirA256Gcm({ cty: 'JWT' }, jws, secrets[32]!)))
    const err = await refusal(guard.verify(dirA256Gcm({ cty: 'JWT', zip: 'DEF' }, deflateRawSync(jws), secrets[32]!)), 'ERR_JWE_INVALID')
    expect(err.message).toBe('Compressed tokens are not accepted')
  })

  it('alg or enc outside the configured allow-lists', async () => {
    const guard = guardWith({ keys: rsa.privateKey, keyManagementAlgorithms: ['RSA-OAEP-256'], contentEncryptionAlgorithms: ['A256GCM'] })
    expectNested(await guard.verify(await nested({ key: rsa.publicJwk, alg: 'RSA-OAEP-256', enc: 'A256GCM' })))
    await refusal(guard.verify(await nested({ key: rsa.publicJwk, alg: 'RSA-OAEP-384' })), 'ERR_JWE_INVALID')
    await refusal(guard.verify(await nested({ key: rsa.publicJwk, enc: 'A128GCM' })), 'ERR_JWE_INVALID')
  })

  it('alg or enc outside the default allow-lists (RSA-OAEP with SHA-1, A*GCMKW, A192GCM)', async () => {
    const guard = guardWith({ keys: [rsa.privateKey, secrets[32]!] })
    await refusal(guard.verify(await nested({ key: rsa.publicJwk, alg: 'RSA-OAEP' })), 'ERR_JWE_INVALID')
    await refusal(guard.verify(await nested({ key: secrets[32]!, alg: 'A256GCMKW' })), 'ERR_JWE_INVALID')
    await refusal(guard.verify(await nested({ key: rsa.publicJwk, enc: 'A192GCM' })), 'ERR_JWE_INVALID')
  })

  describe('encrypted-only JWT (claims straight in the JWE)', () => {
    const plain = (key: JWK | Uint8Array, alg: string, payload = claims()) =>
      issuer.encrypt(JSON.stringify(payload), { key, alg, enc: 'A256GCM', cty: null })

    it('is refused with asymmetric key management', async () => {
      const err = await refusal(guardWith({ keys: rsa.privateKey }).verify(await plain(rsa.publicJwk, 'RSA-OAEP-256')), 'ERR_JWE_INVALID')
      expect(err.message).toBe('Unsigned encrypted token')
    })

    it('allowUnsigned with an asymmetric algorithm allowed fails at construction, naming the option', () => {
      const message = /option "decryption\.allowUnsigned" needs keyManagementAlgorithms limited to symmetric ones/
      expect(() => guardWith({ keys: rsa.privateKey, allowUnsigned: true })).toThrow(TypeError)
      expect(() => guardWith({ keys: rsa.privateKey, allowUnsigned: true })).toThrow(message)
      expect(() => guardWith({ keys: secrets[32]!, allowUnsigned: true, keyManagementAlgorithms: ['dir', 'RSA-OAEP-256'] })).toThrow(
        message,
      )
    })

    it('is accepted with allowUnsigned and dir, with its claims still checked', async () => {
      const guard = guardWith({ keys: secrets[32]!, keyManagementAlgorithms: ['dir'], allowUnsigned: true })
      const auth = await guard.verify(await plain(secrets[32]!, 'dir'))
      expect(auth.encrypted).toBe(true)
      expect(auth.payload.sub).toBe('user-123')
      expect(auth.header).toEqual({ alg: 'dir', enc: 'A256GCM' })
      await refusal(guard.verify(await plain(secrets[32]!, 'dir', claims({ exp: now() - 3600 }))), 'ERR_JWT_EXPIRED')
      await refusal(guard.verify(await plain(secrets[32]!, 'dir', claims({ aud: 'https://other-api.test' }))), 'ERR_JWT_AUDIENCE_INVALID')
      // A nested token still goes through the inner signature check on this guard.
      expectNested(await guard.verify(await nested({ key: secrets[32]!, alg: 'dir', enc: 'A256GCM' })))
    })
  })

  it('a JWE when no decryption is configured: 401 ERR_JWE_NOT_SUPPORTED', async () => {
    const err = await refusal(guardWith().verify(await nested({ key: rsa.publicJwk })), 'ERR_JWE_NOT_SUPPORTED')
    expect(err.message).toBe('Encrypted tokens are not accepted')
  })

  it('a plain JWS when decryption.required is true, while a nested token passes', async () => {
    const guard = guardWith({ keys: rsa.privateKey, required: true })
    const err = await refusal(guard.verify(await issuer.sign()), 'ERR_JWE_REQUIRED')
    expect(err.message).toBe('Encrypted token required')
    expectNested(await guard.verify(await nested({ key: rsa.publicJwk })))
    // Without `required`, a plain JWS is fine next to encrypted ones.
    expect((await guardWith({ keys: rsa.privateKey }).verify(await issuer.sign())).encrypted).toBe(false)
  })

  it('RFC 7519 §5.3: replicated iss/sub/aud must equal the inner claims', async () => {
    const guard = guardWith({ keys: rsa.privateKey })
    const replicated = { iss: issuer.issuer, sub: 'user-123', aud: issuer.audience }
    expectNested(await guard.verify(await nested({ key: rsa.publicJwk, header: replicated })))
    for (const differing of [{ iss: 'https://evil.example' }, { sub: 'admin' }, { aud: 'https://other-api.test' }]) {
      const token = await nested({ key: rsa.publicJwk, header: { ...replicated, ...differing } })
      const err = await refusal(guard.verify(token), 'ERR_JWE_INVALID')
      expect(err.message).toBe('Replicated claim mismatch')
    }
  })
})

describe('every decryption failure looks the same (no oracle)', () => {
  const configs = [
    {
      name: 'RSA-OAEP-256 + A256GCM',
      kid: 'rsa',
      alg: 'RSA-OAEP-256',
      enc: 'A256GCM',
      key: () => rsa.publicJwk,
      wrong: () => rsaSpares[2]!.publicJwk,
    },
    {
      name: 'ECDH-ES+A128KW + A128CBC-HS256',
      kid: 'ec',
      alg: 'ECDH-ES+A128KW',
      enc: 'A128CBC-HS256',
      key: () => p256.publicJwk,
      wrong: () => encryptionKey('P-256').publicJwk,
    },
    {
      name: 'dir + A128CBC-HS256',
      kid: 'oct',
      alg: 'dir',
      enc: 'A128CBC-HS256',
      key: () => secrets[32]!,
      wrong: () => new Uint8Array(randomBytes(32)),
    },
  ]
  const guard = () =>
    guardWith({
      keys: [
        { kid: 'rsa', key: rsa.privateKey },
        { kid: 'rsa-2', key: rsaSpares[3]!.privateKey },
        { kid: 'ec', key: p256.privateKey },
        { kid: 'oct', key: secrets[32]! },
      ],
    })

  // What a client sees of a failure; the context is compared too, since it goes to logs and events.
  const shapeOf = (error: GuardError) => JSON.stringify([error.code, error.status, error.message, error.context, error.headers])
  const GENERIC = JSON.stringify([
    'ERR_JWE_DECRYPTION_FAILED',
    401,
    'Token decryption failed',
    { reason: 'decryption' },
    { 'WWW-Authenticate': 'Bearer realm="api", error="invalid_token", error_description="Token decryption failed"' },
  ])

  it('wrong key, tampered parts, truncated tag and wrong kid give one code, message, status and challenge', async () => {
    const g = guard()
    const seen: Record<string, string> = {}
    for (const c of configs) {
      const options = { alg: c.alg, enc: c.enc, kid: c.kid }
      const good = await nested({ ...options, key: c.key() })
      expectNested(await g.verify(good))
      const variants: Record<string, string> = {
        'wrong key': await nested({ ...options, key: c.wrong() }),
        'tampered ciphertext': editSegment(good, 3, flipLastBit),
        'tampered tag': editSegment(good, 4, flipLastBit),
        'truncated tag': editSegment(good, 4, (tag) => tag.subarray(0, tag.length - 1)),
        // dir and ECDH-ES carry no encrypted key: one appearing is a failure as well.
        'tampered encrypted key': editSegment(good, 1, (key) => (key.length ? flipLastBit(key) : randomBytes(40))),
        'tampered IV': editSegment(good, 2, flipLastBit),
        'tampered header': editSegment(good, 0, (h) => Buffer.from(JSON.stringify({ ...JSON.parse(h.toString()), x: 1 }))),
        'unknown kid': await nested({ ...options, key: c.key(), kid: 'nobody' }),
        // Another configured key: a second RSA key for RSA-OAEP, a key that does not fit for the others.
        "another key's kid": await nested({ ...options, key: c.key(), kid: 'rsa-2' }),
      }
      for (const [variant, token] of Object.entries(variants)) {
        seen[`${c.name}: ${variant}`] = await g.verify(token).then(() => 'accepted', shapeOf)
      }
    }
    expect(Object.keys(seen)).toHaveLength(configs.length * 9)
    expect(seen).toEqual(Object.fromEntries(Object.keys(seen).map((variant) => [variant, GENERIC])))
  })
})
