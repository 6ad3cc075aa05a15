import type { webcrypto } from 'node:crypto'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { JSONWebKeySet, JWK } from 'jose'
import type { EncryptOptions } from './encrypt.js'
import type { JwksFault } from './faults.js'
import type { TestAlgorithm, TestKey, TestKeyOptions } from './keys.js'

export interface TestIssuerOptions {
  /** Default `aud` of minted tokens. Default `'https://api.example.test'`. */
  audience?: string | string[]
  /** One signing key is made per algorithm. Default `['RS256', 'ES256', 'EdDSA']`. */
  algorithms?: TestAlgorithm[]
  /** A path after the origin, for issuers like `https://idp/realms/x`: `'x'`, `'/x'`, `'x/'` and `'/x/'` are the same. Default none. */
  path?: string
  /** `true`: the issuer identifier ends in `/` (as Auth0's do); discovery and the JWKS are served as for the bare path. Default `false`. */
  trailingSlash?: boolean
  /**
   * `true`: a multi-tenant identity provider. Every path `P` under the origin is an issuer `http://127.0.0.1:PORT/P`
   * whose discovery documents are served (naming that issuer and this issuer's `jwksUri`): its tokens are
   * `sign({ iss: \`${issuer.origin}/P\` })`. Default `false` (only this issuer's own documents).
   */
  tenants?: boolean
  /** Port on 127.0.0.1. Default 0 (ephemeral). */
  port?: number
  /** HMAC secret for HS256/384/512 tokens. Default 64 random bytes. */
  secret?: Uint8Array
}

export interface SignOptions {
  /** Default: `key`'s algorithm, else `'RS256'` (or the first algorithm the issuer holds). `HS*` uses `secret`. */
  alg?: TestAlgorithm | 'HS256' | 'HS384' | 'HS512'
  /** `kid` header; `null` omits it. Default: the kid of `key` (a `TestKey`), else of the current key for `alg`. */
  kid?: string | null
  /** Lifetime in seconds. Default 3600. */
  expiresIn?: number
  /** `typ` header, e.g. `'at+jwt'`. */
  typ?: string
  /** More protected-header parameters. */
  header?: Record<string, unknown>
  /**
   * Sign with this key instead of the current key for `alg`: one of the issuer's keys (from `addKey` or `keys()`,
   * published or withdrawn), a `createTestKey` key, or a bare private key or secret (for forged tokens).
   */
  key?: TestKey | webcrypto.CryptoKey | Uint8Array
}

/** Where the discovery documents are answered and what they say; see `TestIssuer.setDiscovery`. */
export interface DiscoverySettings {
  /** Serve `<issuer>/.well-known/openid-configuration`; `false` answers 404 there. Default `true`. */
  openid?: boolean
  /** Serve `/.well-known/oauth-authorization-server<path>` (RFC 8414); `false` answers 404 there. Default `true`. */
  oauth?: boolean
  /** The `issuer` the documents name. Default: the issuer (or tenant) they were asked for. */
  issuer?: string
  /** The `jwks_uri` the documents name. Default `jwksUri`. */
  jwksUri?: string
}

/** Requests the issuer has served so far, per endpoint (a live object: copy it to compare later). */
export interface TestIssuerRequests {
  /** JWKS requests, at `jwksUri` and every `${jwksUri}/<name>`, whatever the answer. */
  jwks: number
  /** Those of the JWKS requests that were answered with a fault (`setJwksFault`). */
  jwksFaulted: number
  /** Discovery requests at either location, answered or 404: `openid + oauth`. */
  discovery: number
  /** Requests for an OpenID Connect discovery document (answered or 404). */
  openid: number
  /** Requests for an RFC 8414 authorization-server metadata document (answered or 404). */
  oauth: number
  /** Requests that followed the `redirect` fault to its target. */
  redirected: number
  /** Anything else (answered 404). */
  other: number
}

/** A custom JWKS response for fault tests: write anything to `res`. */
export type JwksHandler = (res: ServerResponse, jwks: JSONWebKeySet) => void

/** A real issuer on 127.0.0.1 for tests: discovery documents, a JWKS, token minting, and switchable faults. */
export interface TestIssuer {
  /** The `iss` of minted tokens, e.g. `http://127.0.0.1:41234`. */
  readonly issuer: string
  /** `http://127.0.0.1:PORT`, without the issuer's path: tenants' issuers (`tenants: true`) are built on it. */
  readonly origin: string
  /** `<issuer without trailing slash>/jwks`. Every `${jwksUri}/<name>` serves the same set (one URL per issuer in multi-issuer tests). */
  readonly jwksUri: string
  readonly audience: string | string[]
  /** HMAC secret used for `HS*` tokens. */
  readonly secret: Uint8Array
  /** Requests served so far, per endpoint. */
  readonly requests: Readonly<TestIssuerRequests>
  /** JWKS requests per request path (`/jwks`, `/jwks/a` …), each also counted in `requests.jwks`. */
  readonly jwksRequestsByPath: ReadonlyMap<string, number>
  /** The headers of the last JWKS request (e.g. its `accept`), or `undefined` before the first. */
  readonly lastJwksHeaders: IncomingHttpHeaders | undefined
  /** The JWKS as currently served: the published keys, then the `setExtraJwks` members. */
  jwks(): JSONWebKeySet
  /** The published signing keys, in publication order. */
  keys(): readonly TestKey[]
  /** Mints a signed token. `claims` override the defaults; a claim set to `undefined` is left out. */
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>
  /** Encrypts a token (or any plaintext) for an API: makes a nested JWT from `sign()`'s output. */
  encrypt(plaintext: string, options: EncryptOptions): Promise<string>
  /** `sign()` then `encrypt()`: a nested JWT, as providers that encrypt access tokens issue them. */
  signEncrypted(claims: Record<string, unknown> | undefined, encrypt: EncryptOptions, sign?: SignOptions): Promise<string>
  /**
   * Publishes one more key (`kid: null`: one without a kid) after the others, without making it the default signer:
   * tokens use it through `sign(claims, { key })`. Default algorithm: the issuer's default.
   */
  addKey(options?: TestKeyOptions): Promise<TestKey>
  /** Adds a fresh key for `alg` that new tokens use; `keepOld: false` also stops publishing the old one. Returns the new kid. */
  rotate(alg?: TestAlgorithm, options?: { keepOld?: boolean }): Promise<string>
  /** Stops publishing a key, given by kid (the first with it) or itself; tokens it signed stop verifying once caches refresh. */
  removeKey(key: string | TestKey): void
  /** Replaces the raw JWKs published after the signing keys (private, weak or malformed keys a verifier must drop). */
  setExtraJwks(keys: readonly JWK[]): void
  /** Makes the JWKS endpoint fail in one way from the next request on; `undefined` restores normal answers. */
  setJwksFault(fault: JwksFault | undefined): void
  /** Waits `ms` milliseconds before answering each JWKS request, whatever the answer (a slow provider). `0` (the default) restores. */
  setJwksDelay(ms: number): void
  /** Replaces how the JWKS endpoint answers (status, body, delay); `undefined` restores the default. Takes precedence over a fault. */
  setJwksHandler(handler: JwksHandler | undefined): void
  /** Switches the discovery locations on or off and overrides what the documents say; `undefined` restores the defaults. */
  setDiscovery(settings: DiscoverySettings | undefined): void
  /** `{ issuer, audience }`, ready to spread into guard options. */
  guardOptions(): { issuer: string; audience: string | string[] }
  close(): Promise<void>
}
