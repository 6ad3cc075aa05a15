import { randomUUID, type webcrypto } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { createGzip } from 'node:zlib'
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose'

/** Audience of every token minted here. */
export const AUDIENCE = 'https://api.example.test'

/**
 * How the JWKS endpoint answers; the test may switch it while the server runs.
 * - `hang`: never answers; `stall`: sends headers and the start of a body, then nothing;
 * - `huge`: a 20 MB JSON body, chunked (no length); `huge-declared`: the same with a `content-length`;
 * - `gzip-bomb`: ~130 KB of gzip that inflates to 128 MiB of zeros;
 * - `redirect`: 302 to a path that serves the valid set.
 */
export type Behaviour = 'normal' | 'hang' | 'stall' | '500' | 'garbage' | 'huge' | 'huge-declared' | 'gzip-bomb' | 'redirect'

export interface SigningKey {
  kid: string | undefined
  alg: 'RS256' | 'ES256'
  privateKey: webcrypto.CryptoKey
  publicJwk: JWK
}

export interface KeyOptions {
  alg?: 'RS256' | 'ES256'
  /** Default a random UUID; `null` for no kid. */
  kid?: string | null
}

export interface JwksServer {
  /** `http://127.0.0.1:PORT`, also the default `iss` of minted tokens. */
  readonly origin: string
  /** `${origin}/jwks`. */
  readonly jwksUri: string
  behaviour: Behaviour
  /** Milliseconds to wait before answering the JWKS endpoint (any behaviour). */
  delayMs: number
  /** Requests per endpoint; `moved` is the redirect target, `other` anything unknown (404). */
  readonly requests: { jwks: number; moved: number; openid: number; oauth: number; other: number }
  /**
   * JWKS requests per path: `/jwks` and every `/jwks/<name>` serve the same set (one URL per issuer
   * in multi-issuer tests), and each path is counted here as well as in `requests.jwks`.
   */
  readonly jwksByPath: Map<string, number>
  /** The `accept` header of the last JWKS request. */
  readonly lastAccept: string | undefined
  /** Signing keys whose public halves are published, in order. */
  readonly keys: SigningKey[]
  /** Raw JWKs published after the signing keys (keys a verifier must drop). */
  extraJwks: JWK[]
  /**
   * Discovery answers for any `<path>/.well-known/openid-configuration` and
   * `/.well-known/oauth-authorization-server<path>`: `issuer` defaults to
   * `origin + path`, `jwks_uri` to `jwksUri`. A disabled location answers 404.
   */
  discovery: { openid: boolean; oauth: boolean; issuer?: string; jwksUri?: string }
  /** Generates a key and publishes it (`kid: null` publishes it without a kid). */
  addKey(options?: KeyOptions): Promise<SigningKey>
  removeKey(key: SigningKey): void
  /** Signs a distinct token with `key` (published or not): `iss` = origin, `aud` = AUDIENCE, 1 h, fresh `jti`; `claims` override. */
  sign(key: SigningKey, claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

const HUGE_BYTES = 20 * 1024 * 1024

// Built once per process, before any server listens (building takes longer than a short fetch timeout):
// 128 MiB of zeros streamed through gzip, so the test never holds them at once.
let bomb: Promise<Buffer> | undefined
function gzipBomb(): Promise<Buffer> {
  function* zeros(): Generator<Buffer> {
    const chunk = Buffer.alloc(1024 * 1024)
    for (let i = 0; i < 128; i++) yield chunk
  }
  bomb ??= buffer(Readable.from(zeros()).pipe(createGzip({ level: 9 })))
  return bomb
}

/** Writes `total` bytes of JSON whitespace inside a JWKS, honouring back-pressure, until done or the client leaves. */
async function writeHuge(res: ServerResponse, total: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  const writable = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done).off('close', done)
        resolve()
      }
      res.on('drain', done).on('close', done)
    })
  res.write('{"keys":[')
  for (let sent = 0; sent < total && !res.destroyed; sent += chunk.length) {
    if (!res.write(chunk)) await writable()
  }
  if (!res.destroyed) res.end(']}')
}

/** A fresh signing key (not published anywhere); `kid: null` makes one without a kid. */
export async function createSigningKey({ alg = 'ES256', kid = randomUUID() }: KeyOptions = {}): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), alg, use: 'sig' }
  if (kid !== null) publicJwk.kid = kid
  return { kid: kid ?? undefined, alg, privateKey, publicJwk }
}

/** Starts a programmable JWKS server on 127.0.0.1 with one ES256 key; close it when done. */
export async function startJwksServer(): Promise<JwksServer> {
  const bombBody = await gzipBomb()
  const requests = { jwks: 0, moved: 0, openid: 0, oauth: 0, other: 0 }
  const jwksByPath = new Map<string, number>()
  const keys: SigningKey[] = []
  let lastAccept: string | undefined
  let origin = ''

  const jwksBody = (): string => JSON.stringify({ keys: [...keys.map((k) => k.publicJwk), ...state.extraJwks] })

  const answerJwks = async (res: ServerResponse): Promise<void> => {
    if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs))
    const json = { 'content-type': 'application/jwk-set+json' }
    switch (state.behaviour) {
      case 'normal':
        return void res.writeHead(200, json).end(jwksBody())
      case 'hang':
        return
      case 'stall':
        return void res.writeHead(200, json).write('{"keys":[')
      case '500':
        return void res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error')
      case 'garbage':
        return void res.writeHead(200, json).end('<html>not json</html>')
      case 'huge':
        return writeHuge(res.writeHead(200, json), HUGE_BYTES)
      case 'huge-declared':
        return writeHuge(res.writeHead(200, { ...json, 'content-length': String(HUGE_BYTES + '{"keys":[]}'.length) }), HUGE_BYTES)
      case 'gzip-bomb':
        return void res.writeHead(200, { ...json, 'content-encoding': 'gzip', 'content-length': String(bombBody.length) }).end(bombBody)
      case 'redirect':
        return void res.writeHead(302, { location: `${origin}/jwks-moved` }).end()
    }
  }

  const answerDiscovery = (res: ServerResponse, path: string): void => {
    const doc = { issuer: state.discovery.issuer ?? origin + path, jwks_uri: state.discovery.jwksUri ?? `${origin}/jwks` }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc))
  }

  const OPENID = '/.well-known/openid-configuration'
  const OAUTH = '/.well-known/oauth-authorization-server'
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    if (url === '/jwks' || url.startsWith('/jwks/')) {
      requests.jwks++
      jwksByPath.set(url, (jwksByPath.get(url) ?? 0) + 1)
      lastAccept = req.headers.accept
      void answerJwks(res)
    } else if (url === '/jwks-moved') {
      requests.moved++
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwksBody())
    } else if (url.endsWith(OPENID) && state.discovery.openid) {
      requests.openid++
      answerDiscovery(res, url.slice(0, -OPENID.length))
    } else if (url.startsWith(OAUTH) && state.discovery.oauth) {
      requests.oauth++
      answerDiscovery(res, url.slice(OAUTH.length))
    } else {
      if (url.endsWith(OPENID)) requests.openid++
      else if (url.startsWith(OAUTH)) requests.oauth++
      else requests.other++
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const state: JwksServer = {
    origin,
    jwksUri: `${origin}/jwks`,
    behaviour: 'normal',
    delayMs: 0,
    requests,
    jwksByPath,
    get lastAccept() {
      return lastAccept
    },
    keys,
    extraJwks: [],
    discovery: { openid: true, oauth: true },
    async addKey(options) {
      const key = await createSigningKey(options)
      keys.push(key)
      return key
    },
    removeKey(key) {
      keys.splice(keys.indexOf(key), 1)
    },
    sign(key, claims = {}, header = {}) {
      const now = Math.floor(Date.now() / 1000)
      const payload = { iss: origin, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 3600, jti: randomUUID(), ...claims }
      const protectedHeader = { alg: key.alg, ...(key.kid === undefined ? {} : { kid: key.kid }), ...header }
      return new SignJWT(payload as JWTPayload).setProtectedHeader(protectedHeader).sign(key.privateKey)
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  await state.addKey()
  return state
}
