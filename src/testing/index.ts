import { randomBytes, randomUUID, type webcrypto } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose'
import { encryptFor } from './encrypt.js'
import { answerFault, JWKS_FAULTS, type JwksFault } from './faults.js'
import { createTestKey, isTestKey, type TestAlgorithm, type TestKey } from './keys.js'
import type { DiscoverySettings, JwksHandler, SignOptions, TestIssuer, TestIssuerOptions, TestIssuerRequests } from './types.js'

export type { EncryptOptions } from './encrypt.js'
export type { JwksFault } from './faults.js'
export { createTestKey, type TestAlgorithm, type TestKey, type TestKeyOptions } from './keys.js'
export type * from './types.js'

const DEFAULT_ALGORITHMS: TestAlgorithm[] = ['RS256', 'ES256', 'EdDSA']
const OPENID = '/.well-known/openid-configuration'
const OAUTH = '/.well-known/oauth-authorization-server'

/** Starts a test issuer on 127.0.0.1; close it when done. */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS
  const defaultAlg: TestAlgorithm = algorithms.includes('RS256') ? 'RS256' : algorithms[0]!
  const audience = options.audience ?? 'https://api.example.test'
  const secret = options.secret ?? new Uint8Array(randomBytes(64))
  const published: TestKey[] = await Promise.all(algorithms.map((alg) => createTestKey({ alg })))
  const current = new Map<TestAlgorithm, TestKey>(published.map((k) => [k.alg, k]))
  const requests: TestIssuerRequests = { jwks: 0, jwksFaulted: 0, discovery: 0, openid: 0, oauth: 0, redirected: 0, other: 0 }
  const jwksRequestsByPath = new Map<string, number>()
  let lastJwksHeaders: IncomingHttpHeaders | undefined
  let extraJwks: readonly JWK[] = []
  let fault: JwksFault | undefined
  let delayMs = 0
  let jwksHandler: JwksHandler | undefined
  let discovery: DiscoverySettings = {}
  // Delayed answers still pending, cleared on close so no timer outlives the issuer.
  const delays = new Set<NodeJS.Timeout>()
  const trimmed = (options.path ?? '').replace(/^\/+|\/+$/g, '')
  const path = trimmed === '' ? '' : `/${trimmed}`
  let origin = ''
  let issuer = ''

  const jwks = (): JSONWebKeySet => ({ keys: [...published.map((k) => k.publicJwk), ...extraJwks] })
  const sendJwks = (res: ServerResponse): void =>
    void res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwks()))

  function answerJwks(req: IncomingMessage, res: ServerResponse, url: string): void {
    requests.jwks++
    jwksRequestsByPath.set(url, (jwksRequestsByPath.get(url) ?? 0) + 1)
    lastJwksHeaders = req.headers
    // The answer is the one set when the request arrived, however long the delay.
    const [handler, faulted] = [jwksHandler, fault]
    if (!handler && faulted) requests.jwksFaulted++
    const answer = (): void => {
      if (res.destroyed) return
      if (handler) handler(res, jwks())
      else if (faulted) answerFault(res, faulted, `${origin}${path}/jwks-moved`)
      else sendJwks(res)
    }
    if (delayMs <= 0) return answer()
    const timer = setTimeout(() => {
      delays.delete(timer)
      answer()
    }, delayMs)
    delays.add(timer)
  }

  /** Answers discovery for the issuer (or, with `tenants`, the tenant) at `issuerPath`, unless switched off. */
  function answerDiscovery(res: ServerResponse, issuerPath: string, enabled: boolean): void {
    requests.discovery++
    if (!enabled || !(issuerPath === path || options.tenants)) return void res.writeHead(404).end()
    const doc = {
      issuer: discovery.issuer ?? (issuerPath === path ? issuer : origin + issuerPath),
      jwks_uri: discovery.jwksUri ?? `${origin}${path}/jwks`,
      id_token_signing_alg_values_supported: algorithms,
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc))
  }

  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    if (url === `${path}/jwks` || url.startsWith(`${path}/jwks/`)) answerJwks(req, res, url)
    else if (url === `${path}/jwks-moved`) {
      requests.redirected++
      sendJwks(res)
    } else if (url.endsWith(OPENID)) {
      requests.openid++
      answerDiscovery(res, url.slice(0, -OPENID.length), discovery.openid !== false)
    } else if (url.startsWith(OAUTH)) {
      requests.oauth++
      answerDiscovery(res, url.slice(OAUTH.length), discovery.oauth !== false)
    } else {
      requests.other++
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  issuer = `${origin}${path}${options.trailingSlash ? '/' : ''}`

  async function signToken(claims: Record<string, unknown> = {}, opts: SignOptions = {}): Promise<string> {
    const given = isTestKey(opts.key) ? opts.key : undefined
    const raw = given ? undefined : (opts.key as webcrypto.CryptoKey | Uint8Array | undefined)
    const alg = opts.alg ?? given?.alg ?? defaultAlg
    const hmac = alg.startsWith('HS')
    // The key whose kid the header names: a forged token (a bare `key`) claims the current key's.
    const held = given ?? (hmac ? undefined : current.get(alg as TestAlgorithm))
    if (!hmac && !held && !raw) throw new Error(`test issuer holds no ${alg} key`)
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
    const kid = opts.kid === undefined ? held?.kid : opts.kid
    if (kid !== null && kid !== undefined) header.kid = kid
    if (opts.typ) header.typ = opts.typ
    return new SignJWT(payload as JWTPayload).setProtectedHeader(header as { alg: string }).sign(raw ?? held?.privateKey ?? secret)
  }

  return {
    issuer,
    origin,
    jwksUri: `${origin}${path}/jwks`,
    audience,
    secret,
    requests,
    jwksRequestsByPath,
    get lastJwksHeaders() {
      return lastJwksHeaders
    },
    jwks,
    keys: () => [...published],
    sign: (claims, opts) => signToken(claims, opts),
    encrypt: (plaintext, opts) => encryptFor(plaintext, opts),
    signEncrypted: async (claims, encrypt, sign) => encryptFor(await signToken(claims, sign), encrypt),
    async addKey(keyOptions = {}) {
      const key = await createTestKey({ alg: defaultAlg, ...keyOptions })
      published.push(key)
      return key
    },
    async rotate(alg = algorithms[0]!, { keepOld = true } = {}) {
      const next = await createTestKey({ alg })
      const old = current.get(alg)
      if (old && !keepOld && published.includes(old)) published.splice(published.indexOf(old), 1)
      published.push(next)
      current.set(alg, next)
      return next.kid!
    },
    removeKey(key) {
      const i = typeof key === 'string' ? published.findIndex((k) => k.kid === key) : published.indexOf(key)
      if (i !== -1) published.splice(i, 1)
    },
    setExtraJwks(keys) {
      if (!Array.isArray(keys)) throw new TypeError('setExtraJwks: keys must be an array of JWKs')
      extraJwks = [...keys]
    },
    setJwksFault(next) {
      if (next !== undefined && !JWKS_FAULTS.includes(next)) throw new TypeError(`setJwksFault: unknown fault ${JSON.stringify(next)}`)
      fault = next
    },
    setJwksDelay(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new TypeError('setJwksDelay: ms must be a finite number >= 0')
      delayMs = ms
    },
    setJwksHandler(handler) {
      jwksHandler = handler
    },
    setDiscovery(settings) {
      if (settings !== undefined && (typeof settings !== 'object' || settings === null)) {
        throw new TypeError('setDiscovery: settings must be an object or undefined')
      }
      discovery = { ...settings }
    },
    guardOptions: () => ({ issuer, audience }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of delays) clearTimeout(timer)
        delays.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
