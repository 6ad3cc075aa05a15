import { randomBytes, randomUUID, type webcrypto } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CompactEncrypt, exportJWK, generateKeyPair, importJWK, SignJWT, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose'

/** Algorithms the test issuer can hold signing keys for. */
export type TestAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA'

export interface TestIssuerOptions {
  /** Default `aud` of minted tokens. Default `'https://api.example.test'`. */
  audience?: string | string[]
  /** One signing key is made per algorithm. Default `['RS256', 'ES256', 'EdDSA']`. */
  algorithms?: TestAlgorithm[]
  /** A path after the origin, for issuers like `https://idp/realms/x`: `'x'`, `'/x'`, `'x/'` and `'/x/'` are the same. Default none. */
  path?: string
  /** `true`: the issuer identifier ends in `/` (as Auth0's do); discovery and the JWKS are served as for the bare path. Default `false`. */
  trailingSlash?: boolean
  /** Port on 127.0.0.1. Default 0 (ephemeral). */
  port?: number
  /** HMAC secret for HS256/384/512 tokens. Default 64 random bytes. */
  secret?: Uint8Array
}

export interface SignOptions {
  /** Default `'RS256'` (or the first algorithm the issuer holds). `HS*` uses `secret`. */
  alg?: TestAlgorithm | 'HS256' | 'HS384' | 'HS512'
  /** `kid` header; `null` omits it. Default: the kid of the current key for `alg`. */
  kid?: string | null
  /** Lifetime in seconds. Default 3600. */
  expiresIn?: number
  /** `typ` header, e.g. `'at+jwt'`. */
  typ?: string
  /** More protected-header parameters. */
  header?: Record<string, unknown>
  /** Sign with this private key instead of the issuer's (for forged tokens). */
  key?: webcrypto.CryptoKey | Uint8Array
}

export interface EncryptOptions {
  /** The API's public encryption key (JWK, KeyObject, CryptoKey) or a shared secret (`dir`, `A*KW`). */
  key: JWK | import('node:crypto').KeyObject | webcrypto.CryptoKey | Uint8Array
  /** Key management algorithm. Default `'RSA-OAEP-256'`. */
  alg?: string
  /** Content encryption. Default `'A256GCM'`. */
  enc?: string
  /** `kid` header; default: the JWK's `kid`, if any. */
  kid?: string
  /** `cty` header. Default `'JWT'` (a nested token). */
  cty?: string | null
  /** More protected-header parameters (e.g. replicated `iss`). */
  header?: Record<string, unknown>
}

interface HeldKey {
  kid: string
  alg: TestAlgorithm
  privateKey: webcrypto.CryptoKey
  publicJwk: JWK
}

/** A real issuer on 127.0.0.1 for tests: discovery documents, a JWKS, and token minting. */
export interface TestIssuer {
  /** The `iss` of minted tokens, e.g. `http://127.0.0.1:41234`. */
  readonly issuer: string
  readonly jwksUri: string
  readonly audience: string | string[]
  /** HMAC secret used for `HS*` tokens. */
  readonly secret: Uint8Array
  /** Requests served so far, per endpoint. */
  readonly requests: { jwks: number; discovery: number }
  /** The JWKS as currently served. */
  jwks(): JSONWebKeySet
  /** Mints a signed token. `claims` override the defaults; a claim set to `undefined` is left out. */
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>
  /** Encrypts a token (or any plaintext) for an API: makes a nested JWT from `sign()`'s output. */
  encrypt(plaintext: string, options: EncryptOptions): Promise<string>
  /** `sign()` then `encrypt()`: a nested JWT, as providers that encrypt access tokens issue them. */
  signEncrypted(claims: Record<string, unknown> | undefined, encrypt: EncryptOptions, sign?: SignOptions): Promise<string>
  /** Adds a fresh key for `alg` that new tokens use; `keepOld: false` also stops publishing the old one. Returns the new kid. */
  rotate(alg?: TestAlgorithm, options?: { keepOld?: boolean }): Promise<string>
  /** Stops publishing a key (tokens signed with it stop verifying once caches refresh). */
  removeKey(kid: string): void
  /** Replaces how the JWKS endpoint answers (status, body, delay); `undefined` restores the default. */
  setJwksHandler(handler: JwksHandler | undefined): void
  /** `{ issuer, audience }`, ready to spread into guard options. */
  guardOptions(): { issuer: string; audience: string | string[] }
  close(): Promise<void>
}

/** A custom JWKS response for fault tests: write anything to `res`. */
export type JwksHandler = (res: import('node:http').ServerResponse, jwks: JSONWebKeySet) => void

async function encryptFor(plaintext: string, opts: EncryptOptions): Promise<string> {
  const alg = opts.alg ?? 'RSA-OAEP-256'
  const jwk = !(opts.key instanceof Uint8Array) && typeof opts.key === 'object' && 'kty' in opts.key ? (opts.key as JWK) : undefined
  const key = jwk ? await importJWK(jwk, alg) : (opts.key as Uint8Array)
  const header: Record<string, unknown> = { alg, enc: opts.enc ?? 'A256GCM', ...opts.header }
  const kid = opts.kid ?? jwk?.kid
  if (kid) header.kid = kid
  if (opts.cty !== null) header.cty = opts.cty ?? 'JWT'
  return new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader(header as { alg: string; enc: string }).encrypt(key)
}

const DEFAULT_ALGORITHMS: TestAlgorithm[] = ['RS256', 'ES256', 'EdDSA']

async function makeKey(alg: TestAlgorithm): Promise<HeldKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
  const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicJwk }
}

/** Starts a test issuer on 127.0.0.1; close it when done. */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS
  const audience = options.audience ?? 'https://api.example.test'
  const secret = options.secret ?? new Uint8Array(randomBytes(64))
  const held: HeldKey[] = await Promise.all(algorithms.map(makeKey))
  const current = new Map<TestAlgorithm, HeldKey>(held.map((k) => [k.alg, k]))
  const requests = { jwks: 0, discovery: 0 }
  let jwksHandler: JwksHandler | undefined
  const trimmed = (options.path ?? '').replace(/^\/+|\/+$/g, '')
  const path = trimmed === '' ? '' : `/${trimmed}`
  let issuer = ''

  const jwks = (): JSONWebKeySet => ({ keys: held.map((k) => k.publicJwk) })

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/'
    if (url === `${path}/.well-known/openid-configuration` || url === `/.well-known/oauth-authorization-server${path}`) {
      requests.discovery++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ issuer, jwks_uri: jwksUri(), id_token_signing_alg_values_supported: algorithms }))
    } else if (url === `${path}/jwks`) {
      requests.jwks++
      if (jwksHandler) return jwksHandler(res, jwks())
      res.setHeader('content-type', 'application/jwk-set+json')
      res.end(JSON.stringify(jwks()))
    } else {
      res.statusCode = 404
      res.end()
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  issuer = `${origin}${path}${options.trailingSlash ? '/' : ''}`
  const jwksUri = (): string => `${origin}${path}/jwks`

  async function signToken(claims: Record<string, unknown> = {}, opts: SignOptions = {}): Promise<string> {
    const alg = opts.alg ?? (current.has('RS256') ? 'RS256' : algorithms[0]!)
    const hmac = alg.startsWith('HS')
    const key = hmac ? undefined : current.get(alg as TestAlgorithm)
    if (!hmac && !key && !opts.key) throw new Error(`test issuer holds no ${alg} key`)
    const now = Math.floor(Date.now() / 1000)
    const payload: Record<string, unknown> = {
      iss: issuer,
      aud: audience,
      sub: 'user-123',
      iat: now,
      exp: now + (opts.expiresIn ?? 3600),
      jti: randomUUID(),
    }
    for (const [name, value] of Object.entries(claims)) {
      if (value === undefined) delete payload[name]
      else payload[name] = value
    }
    const header: Record<string, unknown> = { alg, ...opts.header }
    const kid = opts.kid === undefined ? key?.kid : opts.kid
    if (kid !== null && kid !== undefined) header.kid = kid
    if (opts.typ) header.typ = opts.typ
    return new SignJWT(payload as JWTPayload)
      .setProtectedHeader(header as { alg: string })
      .sign(opts.key ?? (hmac ? secret : key!.privateKey))
  }

  return {
    issuer,
    jwksUri: jwksUri(),
    audience,
    secret,
    requests,
    jwks,
    sign: (claims, opts) => signToken(claims, opts),
    encrypt: (plaintext, opts) => encryptFor(plaintext, opts),
    signEncrypted: async (claims, encrypt, sign) => encryptFor(await signToken(claims, sign), encrypt),
    async rotate(alg = algorithms[0]!, { keepOld = true } = {}) {
      const next = await makeKey(alg)
      const old = current.get(alg)
      if (old && !keepOld) held.splice(held.indexOf(old), 1)
      held.push(next)
      current.set(alg, next)
      return next.kid
    },
    removeKey(kid) {
      const i = held.findIndex((k) => k.kid === kid)
      if (i !== -1) held.splice(i, 1)
    },
    setJwksHandler(handler) {
      jwksHandler = handler
    },
    guardOptions: () => ({ issuer, audience }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
