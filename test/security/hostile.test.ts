import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GuardError, type GuardErrorCode } from '../../src/errors.js'
import { createGuard, type Guard } from '../../src/guard.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

// Counted from the first line: a refusal must never leave a promise rejected in the background.
let unhandledRejections = 0
const onUnhandledRejection = (): void => {
  unhandledRejections++
}
process.on('unhandledRejection', onUnhandledRejection)

const ISSUER = 'https://issuer.example'
const AUDIENCE = 'https://api.example'
const victim = generateKeyPairSync('rsa', { modulusLength: 2048 })
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 })
const attackerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const victimPem = victim.publicKey.export({ type: 'spki', format: 'pem' }) as string
const victimJwk = { ...victim.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }
const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'RS256', use: 'sig' }
/** Order of the P-256 group: r = n or s = n is out of range. */
const P256_N = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex')

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600, ...extra })

type Signer = (input: string) => string
function rs256(key: KeyObject): Signer {
  return (input) => sign('sha256', Buffer.from(input), key).toString('base64url')
}
function rs512(key: KeyObject): Signer {
  return (input) => sign('sha512', Buffer.from(input), key).toString('base64url')
}
function es256(key: KeyObject): Signer {
  return (input) => sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')
}
function hs256(secret: string | Buffer): Signer {
  return (input) => createHmac('sha256', secret).update(input).digest('base64url')
}
function fixed(signature: Buffer): Signer {
  return () => signature.toString('base64url')
}

/** A compact JWS over header and payload, each an object or JSON text written by hand. */
function jws(header: object | string, payload: object | string, signer: Signer): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${signer(input)}`
}

/** Verifies and returns the refusal; anything but a GuardError (or a success) fails the test. */
async function refusal(guard: Guard, token: string): Promise<GuardError> {
  const err = await guard.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(GuardError)
  return err as GuardError
}

const is = (code: GuardErrorCode) => ({ code, status: 401 })

/** A loopback server an attacker points `jku`, `x5u` or `iss` at: it must never be asked anything. */
let bait: Server
let baitUrl = ''
let baitRequests = 0
let issuer: TestIssuer
const guards: Record<'publicKey' | 'jwks' | 'jwksUri', Guard> = {} as never

beforeAll(async () => {
  bait = createServer((_, res) => {
    baitRequests++
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ keys: [attackerJwk] }))
  })
  await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve))
  baitUrl = `http://127.0.0.1:${(bait.address() as AddressInfo).port}`
  issuer = await createTestIssuer({ algorithms: ['RS256'], audience: AUDIENCE })
  guards.publicKey = createGuard({ issuer: ISSUER, audience: AUDIENCE, publicKey: victimPem })
  guards.jwks = createGuard({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [victimJwk] } })
  guards.jwksUri = createGuard({ issuer: ISSUER, audience: AUDIENCE, jwksUri: issuer.jwksUri })
})

afterAll(async () => {
  bait.closeAllConnections()
  await new Promise<void>((resolve) => bait.close(() => resolve()))
  await issuer.close()
  process.off('unhandledRejection', onUnhandledRejection)
})

describe('the guards themselves', () => {
  it('verify a genuine token (so every refusal below is about the attack)', async () => {
    const token = jws({ alg: 'RS256', kid: 'k1' }, claims(), rs256(victim.privateKey))
    await expect(guards.publicKey.verify(token)).resolves.toMatchObject({ payload: { iss: ISSUER } })
    await expect(guards.jwks.verify(token)).resolves.toMatchObject({ payload: { iss: ISSUER } })
    await expect(guards.jwksUri.verify(await issuer.sign({ iss: ISSUER }))).resolves.toMatchObject({ payload: { iss: ISSUER } })
  })
})

describe.each(['publicKey', 'jwks', 'jwksUri'] as const)('alg none against the %s guard', (name) => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses "%s" with an empty, a missing and a real-looking signature', async (alg) => {
    const input = `${b64({ alg, typ: 'JWT' })}.${b64(claims())}`
    expect(await refusal(guards[name], `${input}.`)).toMatchObject({ ...is('ERR_JWT_MALFORMED'), context: { reason: 'jws_part_missing' } })
    expect(await refusal(guards[name], input)).toMatchObject({ ...is('ERR_JWT_MALFORMED'), context: { reason: 'segment_count' } })
    expect(await refusal(guards[name], `${input}.${rs256(victim.privateKey)(input)}`)).toMatchObject(is('ERR_JWT_ALG_NOT_ALLOWED'))
    expect(await refusal(guards[name], `${input}.${hs256('')(input)}`)).toMatchObject(is('ERR_JWT_ALG_NOT_ALLOWED'))
  })
})

describe('HS256 signed with the RSA public key as the HMAC secret', () => {
  const pemBody = victimPem
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('-----'))
    .join('')
  const secrets: [string, string | Buffer][] = [
    ['the PEM', victimPem],
    ['the PEM trimmed', victimPem.trim()],
    ['the PEM body without its header lines', pemBody],
    ['the JWK as a JSON string', JSON.stringify(victim.publicKey.export({ format: 'jwk' }))],
    ['the SPKI DER', victim.publicKey.export({ type: 'spki', format: 'der' })],
    ['the PKCS#1 DER', victim.publicKey.export({ type: 'pkcs1', format: 'der' })],
  ]

  it.each(secrets)('is refused when the secret is %s, by a publicKey guard and a jwks guard', async (_, secret) => {
    for (const header of [{ alg: 'HS256' }, { alg: 'HS256', kid: 'k1' }]) {
      const token = jws(header, claims(), hs256(secret))
      expect(await refusal(guards.publicKey, token)).toMatchObject(is('ERR_JWT_ALG_NOT_ALLOWED'))
      expect(await refusal(guards.jwks, token)).toMatchObject(is('ERR_JWT_ALG_NOT_ALLOWED'))
    }
  })

  it('is refused by a getKey guard that hands out the PEM for RS256', async () => {
    const guard = createGuard({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'], getKey: () => victimPem })
    expect(await refusal(guard, jws({ alg: 'HS256' }, claims(), hs256(victimPem)))).toMatchObject(is('ERR_JWT_ALG_NOT_ALLOWED'))
  })
})

describe('keys named by the token itself', () => {
  it('never uses an embedded "jwk" header', async () => {
    const withJwk = (kid: string) => jws({ alg: 'RS256', kid, jwk: attackerJwk }, claims(), rs256(attacker.privateKey))
    expect(await refusal(guards.publicKey, withJwk('k1'))).toMatchObject(is('ERR_JWT_SIGNATURE_INVALID'))
    expect(await refusal(guards.jwks, withJwk('k1'))).toMatchObject(is('ERR_JWT_SIGNATURE_INVALID'))
    expect(await refusal(guards.jwks, withJwk('attacker'))).toMatchObject(is('ERR_JWKS_NO_MATCHING_KEY'))
    const ecJwk = { ...attackerEc.publicKey.export({ format: 'jwk' }), alg: 'ES256' }
    const ecToken = jws({ alg: 'ES256', jwk: ecJwk }, claims(), es256(attackerEc.privateKey))
    expect(await refusal(guards.publicKey, ecToken)).toMatchObject(is('ERR_JWT_ALG_NOT_ALLOWED'))
    expect(await refusal(guards.jwks, ecToken)).toMatchObject(is('ERR_JWKS_NO_MATCHING_KEY'))
  })

  it('honours the alg of a JWKS key: an RS256 key does not verify RS512', async () => {
    const token = jws({ alg: 'RS512', kid: 'k1' }, claims(), rs512(victim.privateKey))
    expect(await refusal(guards.jwks, token)).toMatchObject(is('ERR_JWKS_NO_MATCHING_KEY'))
  })

  // A JWK's `alg` binds it wherever it comes from, as it does in `jwks` (test above).
  it('honours the alg of a JWK given as publicKey or by getKey', async () => {
    const token = jws({ alg: 'RS512' }, claims(), rs512(victim.privateKey))
    const byPublicKey = createGuard({ issuer: ISSUER, audience: AUDIENCE, publicKey: victimJwk })
    const byGetKey = createGuard({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS512'], getKey: () => victimJwk })
    expect(await refusal(byPublicKey, token)).toMatchObject(is('ERR_JWT_ALG_NOT_ALLOWED'))
    expect(await refusal(byGetKey, token)).toMatchObject(is('ERR_JWKS_NO_MATCHING_KEY'))
  })

  // Expected codes: [jwks guard, jwksUri guard]. The remote guard fetches its own JWKS (the issuer's), which has no `k1`.
  it.each([
    ['jku with an unknown kid', { kid: 'attacker', jku: '/jwks' }, 'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_NO_MATCHING_KEY'],
    ['jku with a known kid', { kid: 'k1', jku: '/jwks' }, 'ERR_JWT_SIGNATURE_INVALID', 'ERR_JWKS_NO_MATCHING_KEY'],
    ['x5u and no kid', { x5u: '/cert.pem' }, 'ERR_JWT_SIGNATURE_INVALID', 'ERR_JWT_SIGNATURE_INVALID'],
  ] as const)('never fetches %s: the bait server gets 0 requests', async (_, params, jwksCode, jwksUriCode) => {
    const header: Record<string, string> = { alg: 'RS256', ...params }
    for (const name of ['jku', 'x5u']) if (header[name]) header[name] = baitUrl + header[name]
    const token = jws(header, claims(), rs256(attacker.privateKey))
    expect(await refusal(guards.publicKey, token)).toMatchObject(is('ERR_JWT_SIGNATURE_INVALID'))
    expect(await refusal(guards.jwks, token)).toMatchObject(is(jwksCode))
    expect(await refusal(guards.jwksUri, token)).toMatchObject(is(jwksUriCode))
    expect(baitRequests).toBe(0)
  })
})

describe('kid tricks', () => {
  it.each([
    ['a path', '../../etc/passwd'],
    ['SQL', "' OR '1'='1' --"],
    ['4000 characters', 'x'.repeat(4000)],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['a NUL byte', 'k1\u0000'],
    ['empty', ''],
  ])('a kid that is %s finds no key (and the signature is the attacker’s)', async (_, kid) => {
    const token = jws({ alg: 'RS256', kid }, claims(), rs256(attacker.privateKey))
    expect(await refusal(guards.publicKey, token)).toMatchObject(is('ERR_JWT_SIGNATURE_INVALID'))
    expect(await refusal(guards.jwks, token)).toMatchObject(is('ERR_JWKS_NO_MATCHING_KEY'))
    expect(await refusal(guards.jwksUri, token)).toMatchObject(is('ERR_JWKS_NO_MATCHING_KEY'))
  })

  it.each([
    ['a number', 1],
    ['an object', { kid: 'k1' }],
    ['an array', ['k1']],
    ['null', null],
    ['a boolean', true],
  ])('a kid that is %s is an invalid header, before any key lookup', async (_, kid) => {
    const token = jws({ alg: 'RS256', kid }, claims(), rs256(victim.privateKey))
    for (const guard of Object.values(guards)) {
      expect(await refusal(guard, token)).toMatchObject({ ...is('ERR_JWT_HEADER_INVALID'), context: { reason: 'kid' } })
    }
  })
})

describe('ECDSA signature edge values (ES256)', () => {
  const guard = () => createGuard({ issuer: ISSUER, audience: AUDIENCE, publicKey: ec.publicKey })
  const header = { alg: 'ES256' }

  it('verifies a genuine ES256 token', async () => {
    await expect(guard().verify(jws(header, claims(), es256(ec.privateKey)))).resolves.toBeDefined()
  })

  it.each([
    ['r = s = 0 (the "psychic signature")', Buffer.alloc(64)],
    ['r = s = n', Buffer.concat([P256_N, P256_N])],
    ['r = 0, s = n', Buffer.concat([Buffer.alloc(32), P256_N])],
    ['63 zero bytes', Buffer.alloc(63)],
  ])('refuses %s', async (_, signature) => {
    expect(await refusal(guard(), jws(header, claims(), fixed(signature)))).toMatchObject(is('ERR_JWT_SIGNATURE_INVALID'))
  })

  it('refuses a genuine signature in DER rather than IEEE P1363 form', async () => {
    const der: Signer = (input) => sign('sha256', Buffer.from(input), ec.privateKey).toString('base64url')
    expect(await refusal(guard(), jws(header, claims(), der))).toMatchObject(is('ERR_JWT_SIGNATURE_INVALID'))
  })
})

describe('stripped signatures and extra segments', () => {
  const input = `${b64({ alg: 'RS256' })}.${b64(claims())}`
  it.each([
    ['two segments and a trailing dot (empty signature)', `${input}.`, 'jws_part_missing'],
    ['two segments', input, 'segment_count'],
    ['an empty fourth segment', `${input}.${rs256(victim.privateKey)(input)}.`, 'segment_count'],
    ['two trailing dots', `${input}..`, 'segment_count'],
  ])('refuses %s', async (_, token, reason) => {
    for (const guard of Object.values(guards))
      expect(await refusal(guard, token)).toMatchObject({ ...is('ERR_JWT_MALFORMED'), context: { reason } })
  })
})

describe('crit and b64', () => {
  // Signed with the genuine key: the header alone must be the reason for the refusal.
  const signed = (header: object) => jws(header, claims(), rs256(victim.privateKey))

  // RFC 7515 §4.1.11: a recipient must refuse a `crit` it does not understand, and jwtguard understands none.
  it.each([
    ['an unknown extension', { alg: 'RS256', crit: ['x-unknown'], 'x-unknown': true }],
    ['a registered claim name', { alg: 'RS256', crit: ['exp'], exp: 1 }],
    ['an extension it does not carry', { alg: 'RS256', crit: ['x-missing'] }],
    ['an empty list', { alg: 'RS256', crit: [] }],
    ['a string', { alg: 'RS256', crit: 'b64' }],
  ])('refuses crit naming %s', async (_, header) => {
    expect(await refusal(guards.publicKey, signed(header))).toMatchObject(is('ERR_JWT_HEADER_INVALID'))
  })

  it('refuses b64:false with a raw (unencoded) payload at intake', async () => {
    const input = `${b64({ alg: 'RS256', b64: false, crit: ['b64'] })}.$.02`
    const token = `${input}.${rs256(victim.privateKey)(input)}`
    expect(await refusal(guards.publicKey, token)).toMatchObject({ ...is('ERR_JWT_MALFORMED'), context: { reason: 'segment_count' } })
  })

  // Regression: jose honoured `b64` in `crit`, checking the signature over the payload segment as raw bytes
  // while the guard read the claims from it base64url-decoded. RFC 7797 payloads are no JWTs.
  it.each([
    ['with crit', { alg: 'RS256', b64: false, crit: ['b64'] }],
    ['without crit', { alg: 'RS256', b64: false }],
    ['b64:true with crit', { alg: 'RS256', b64: true, crit: ['b64'] }],
  ])('refuses b64 %s even when the payload segment is valid base64url claims', async (_, header) => {
    expect(await refusal(guards.publicKey, signed(header))).toMatchObject({ ...is('ERR_JWT_HEADER_INVALID'), context: { reason: 'crit' } })
  })
})

describe('non-canonical base64url', () => {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const genuine = jws({ alg: 'RS256', kid: 'k1' }, claims(), rs256(victim.privateKey))
  const [h, p, s] = genuine.split('.') as [string, string, string]
  // An RSA-2048 signature is 342 characters: two leftover, whose last one has 4 unused bits.
  const strayBits = s.slice(0, -1) + ALPHABET[ALPHABET.indexOf(s.at(-1)!) + 1]

  it.each([
    ['padding on the signature', `${h}.${p}.${s}==`],
    ['padding on the header', `${h}=.${p}.${s}`],
    ['"+" and "/" for "-" and "_"', `${h}.${p}.${s.replaceAll('-', '+').replaceAll('_', '/')}`],
    ['a space in the payload', `${h}.${p.slice(0, 8)} ${p.slice(8)}.${s}`],
    ['a line break in the signature', `${h}.${p}.${s.slice(0, 64)}\n${s.slice(64)}`],
    ['stray bits in the last character of the signature', `${h}.${p}.${strayBits}`],
  ])('refuses %s', async (_, token) => {
    expect(token).not.toBe(genuine)
    for (const guard of [guards.publicKey, guards.jwks]) {
      expect(await refusal(guard, token)).toMatchObject({ ...is('ERR_JWT_MALFORMED'), context: { reason: 'not_base64url' } })
    }
  })

  it('has a genuine token to mutate, and the stray-bit spelling decodes to the very same signature', async () => {
    expect(s.length % 4).toBe(2)
    expect(Buffer.from(strayBits, 'base64url')).toEqual(Buffer.from(s, 'base64url'))
    expect(s.includes('-') || s.includes('_')).toBe(true)
    await expect(guards.jwks.verify(genuine)).resolves.toBeDefined()
  })
})

describe('size and depth', () => {
  const TWO_MB = 2 * 1024 * 1024

  it('refuses a 2 MB token for its size, from verify and from a request', async () => {
    const big = `${b64({ alg: 'RS256' })}.${'A'.repeat(TWO_MB)}.${'A'.repeat(342)}`
    expect(await refusal(guards.jwks, big)).toMatchObject({ ...is('ERR_JWT_TOO_LARGE'), context: { reason: 'too_large' } })
    expect(await refusal(guards.jwks, '.'.repeat(TWO_MB))).toMatchObject(is('ERR_JWT_TOO_LARGE'))
    const err = await guards.jwks.authenticate({ headers: { authorization: `Bearer ${big}` } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GuardError)
    expect(err).toMatchObject(is('ERR_JWT_TOO_LARGE'))
  })

  /** The deepest `[[…]]` nesting `build` can hold with the token still within 8 KiB (found by bisection). */
  function deepest(build: (nesting: string) => string): string {
    let low = 1
    let high = 8192
    while (low < high) {
      const mid = Math.ceil((low + high) / 2)
      if (build('['.repeat(mid) + ']'.repeat(mid)).length <= 8192) low = mid
      else high = mid - 1
    }
    return '['.repeat(low) + ']'.repeat(low)
  }

  const payloadJson = (deep: string) => JSON.stringify(claims()).slice(0, -1) + `,"deep":${deep}}`
  const headerJson = (deep: string) => `{"alg":"RS256","kid":"k1","deep":${deep}}`
  const withPayload = (signer: Signer) => (deep: string) => jws({ alg: 'RS256', kid: 'k1' }, payloadJson(deep), signer)
  const withHeader = (signer: Signer) => (deep: string) => jws(headerJson(deep), claims(), signer)

  it.each([
    ['payload', withPayload],
    ['header', withHeader],
  ])('handles nesting as deep as fits in 8 KiB in the %s: refused when forged, verified when genuine', async (_, build) => {
    const forged = build(rs256(attacker.privateKey))
    const forgedToken = forged(deepest(forged))
    expect(forgedToken.length).toBeGreaterThan(8000)
    expect(await refusal(guards.jwks, forgedToken)).toMatchObject(is('ERR_JWT_SIGNATURE_INVALID'))
    // Depth alone is no reason to refuse; what matters is that nothing overflows or throws.
    const genuine = build(rs256(victim.privateKey))
    await expect(guards.jwks.verify(genuine(deepest(genuine)))).resolves.toMatchObject({ scopes: [], roles: [] })
  })

  it('refuses a header or payload that is nothing but nesting', async () => {
    const onlyPayload = (deep: string) => jws({ alg: 'RS256' }, deep, rs256(victim.privateKey))
    const onlyHeader = (deep: string) => jws(deep, claims(), rs256(victim.privateKey))
    const payloadErr = await refusal(guards.jwks, onlyPayload(deepest(onlyPayload)))
    expect(payloadErr).toMatchObject({ ...is('ERR_JWT_MALFORMED'), context: { reason: 'payload_not_object' } })
    const headerErr = await refusal(guards.jwks, onlyHeader(deepest(onlyHeader)))
    expect(headerErr).toMatchObject({ ...is('ERR_JWT_MALFORMED'), context: { reason: 'header_not_object' } })
  })
})

describe('claims that try to break the claim checks or the prototype chain', () => {
  const genuine = (payloadJson: string) => jws({ alg: 'RS256' }, payloadJson, rs256(victim.privateKey))
  const head = () => JSON.stringify(claims()).slice(0, -1)

  it('refuses an exp of 1e999 (Infinity once parsed)', async () => {
    const err = await refusal(guards.publicKey, genuine(`{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":1e999}`))
    expect(err).toMatchObject({ ...is('ERR_JWT_CLAIM_INVALID'), context: { claim: 'exp', reason: 'not_numeric_date' } })
  })

  it('verifies a token carrying "__proto__", "constructor" and "prototype" claims, granting nothing and polluting nothing', async () => {
    const polluting =
      head() +
      ',"__proto__":{"admin":true,"roles":["admin"],"scope":"admin","scp":["admin"]}' +
      ',"constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true}}'
    const auth = await guards.publicKey.verify(genuine(polluting))
    expect(auth.roles).toEqual([])
    expect(auth.scopes).toEqual([])
    expect(Object.getPrototypeOf(auth.payload)).toBe(Object.prototype)
    expect((auth.payload as Record<string, unknown>).admin).toBeUndefined()
    expect(Object.hasOwn(auth.payload, '__proto__')).toBe(true)
    const fresh: Record<string, unknown> = {}
    expect([fresh.admin, fresh.polluted, fresh.roles, fresh.scope]).toEqual([undefined, undefined, undefined, undefined])
  })

  it('grants no scope or role inherited through "__proto__", at the top or down a claim path', async () => {
    const guard = createGuard({ issuer: ISSUER, audience: AUDIENCE, publicKey: victimPem, rolesClaim: 'realm_access.roles' })
    const token = genuine(head() + ',"__proto__":{"scope":"read write"},"realm_access":{"__proto__":{"roles":["admin"]}}}')
    await expect(guard.verify(token)).resolves.toMatchObject({ scopes: [], roles: [] })
  })
})

describe('issuers outside the allow-list', () => {
  it('are refused before any network request, with a remote jwksUri or with discovery', async () => {
    const byUri = createGuard({ issuer: issuer.issuer, audience: AUDIENCE, jwksUri: issuer.jwksUri })
    const byDiscovery = createGuard({ issuer: issuer.issuer, audience: AUDIENCE })
    const before = { ...issuer.requests }
    // Valid tokens of the right issuer's key, with an `iss` the guard does not know (the bait among them).
    for (const iss of ['https://evil.example', baitUrl, `${issuer.issuer}/`, undefined]) {
      const token = await issuer.sign({ iss })
      for (const guard of [byUri, byDiscovery]) {
        expect(await refusal(guard, token)).toMatchObject({ ...is('ERR_JWT_ISSUER_INVALID'), context: { claim: 'iss' } })
      }
    }
    expect(issuer.requests).toEqual(before)
    expect(baitRequests).toBe(0)
  })
})

describe('the whole file', () => {
  it('left no unhandled rejection behind', async () => {
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandledRejections).toBe(0)
  })
})
