import type { KeyObject } from 'node:crypto'
import type { JSONWebKeySet, JWK, JWSHeaderParameters } from 'jose'
import type { TokenSource } from './intake/request.js'
import type { GuardEvent } from './events.js'
import type { ClaimReader } from './authz/grants.js'
import type { StandardSchemaV1 } from './claims/schema.js'
import type { AuthInfo, DefaultClaims } from './types.js'
import type { DecryptionOptions } from './jwe/options.js'
import type { RevocationStore } from './revocation/store.js'
import type { CacheOptions } from './cache.js'
import type { DpopOptions } from './dpop/options.js'
import type { MtlsOptions } from './mtls/options.js'
import type { ResourceMetadataOptions } from './http/metadata.js'
import type { CryptoKeyLike, KeyInput } from './keys/input.js'

export type { CryptoKeyLike, KeyInput } from './keys/input.js'

/** One public verification key as `publicKey` takes it. */
export type PublicKeyInput = string | JWK | KeyObject | CryptoKeyLike

/** One HMAC secret as `secret` takes it. */
export type SecretInput = string | Uint8Array | KeyObject

/** JWS algorithms jwtguard can verify. `none` is not one of them. */
export type JwsAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'
  | 'HS256'
  | 'HS384'
  | 'HS512'

/** Remote key-set cache settings, in milliseconds (the names jose uses). */
export interface JwksCacheOptions {
  /** How long a fetched key set is fresh. Default 10 min. */
  cacheMaxAge?: number
  /** Minimum time between two fetches caused by an unknown `kid` or a failure. Default 30 s. */
  cooldownDuration?: number
  /** Deadline of one key refresh: discovery and JWKS fetch together. Default 5 s. */
  timeoutDuration?: number
  /** How long keys already held keep verifying after a refresh fails. Default 10 min. */
  staleIfError?: number
  /** Cap on one response body, counted after decompression, in bytes. Default 512 KiB. */
  maxResponseSize?: number
}

/** One allowed issuer with settings of its own (multi-tenant APIs). */
export interface IssuerOptions {
  /** The exact `iss` value. */
  issuer: string
  /** This issuer's JWKS URL; default: the guard's `jwksUri`, or discovery from `issuer`. */
  jwksUri?: string
  /** Audiences accepted for this issuer's tokens; default: the guard's `audience`. */
  audience?: string | string[]
  /** Algorithms accepted for this issuer's tokens; default: the guard's `algorithms`. */
  algorithms?: JwsAlgorithm[]
}

export interface GuardOptions<C = DefaultClaims> {
  /**
   * Allowed `iss` value(s), compared exactly (case-sensitive, no trailing-slash
   * leniency). Required. With no other key source each issuer is used for OIDC /
   * RFC 8414 discovery. Entries may be objects with per-issuer overrides.
   */
  issuer: string | readonly (string | IssuerOptions)[]
  /** Accepted audience(s); the token's `aud` must contain one. Required. */
  audience: string | string[]
  /** Remote JWKS URL (`https:`, or `http:` on a loopback host). Skips discovery. */
  jwksUri?: string
  /** A local JSON Web Key Set (public keys). */
  jwks?: JSONWebKeySet
  /**
   * Public key(s): PEM (SPKI or certificate), JWK, `KeyObject` or `CryptoKey`, imported once. An array
   * of up to 4 (rotation) is tried in order; RSA and EC keys may be mixed, each fits its own algorithms.
   */
  publicKey?: PublicKeyInput | readonly PublicKeyInput[]
  /**
   * Shared secret(s) for HS256/384/512, each at least as long as the hash output (32 bytes for HS256).
   * `[current, next]` (up to 4) for rotation: tried in order. Never a PEM key.
   */
  secret?: SecretInput | readonly SecretInput[]
  /**
   * Keys from anywhere (a KMS, a database). Return `undefined` when no key matches, or an array of
   * candidates (rotation): the first 4 are tried in order, the rest never read.
   */
  getKey?: (
    protectedHeader: JWSHeaderParameters,
    token: string,
  ) => KeyInput | readonly KeyInput[] | undefined | Promise<KeyInput | readonly KeyInput[] | undefined>
  /** Allow-list of JWS algorithms. Default: inferred from the key source. */
  algorithms?: JwsAlgorithm[]
  /** Required `typ` header, e.g. `'at+jwt'` (RFC 9068). Compared case-insensitively, `application/` optional. */
  typ?: string
  /** Allowed clock skew for `exp`, `nbf`, `iat`: seconds or `'30s'`, `'2m'`. Default 5 s. */
  clockTolerance?: number | string
  /** Maximum age of a token (`now - iat`): seconds or `'1h'`. Requires `iat`. Default: no limit. */
  maxTokenAge?: number | string
  /** The claim checked against `audience`. Default `'aud'`; Cognito access tokens carry `client_id` instead. */
  audienceClaim?: string
  /** Claims that must equal these values, else 401 (e.g. `{ token_use: 'access' }`). */
  expectedClaims?: Record<string, string | number | boolean>
  /** Claims that must be present (`exp` always is). */
  requiredClaims?: string[]
  /**
   * Standard Schema validator (zod, valibot, arktype …) for the payload; its output is `auth.payload`
   * and types it. It gets the signed claims frozen; no decision reads its output (see `AuthInfo.claims`).
   */
  claimsSchema?: StandardSchemaV1<unknown, C>
  /** Default `true`. `false` lets requests without a token through with no `auth`; a bad token is still refused. */
  authRequired?: boolean
  /** Where tokens come from. Default `'header'` (`Authorization: Bearer`). An array is tried in order. */
  tokenFrom?: TokenSource | TokenSource[]
  /**
   * Revocation check, run on every request (cache hits too): any truthy answer revokes. Throwing answers 503
   * `ERR_REVOCATION_UNAVAILABLE`. Decide on `auth.claims` (as signed), not `auth.payload` (the schema's output).
   */
  isRevoked?: (auth: AuthInfo<C>) => unknown
  /** A revocation store (`memoryRevocationStore()`, `redisRevocationStore()` or any `{ isRevoked(auth) }`), asked on every request. */
  revocation?: RevocationStore
  /**
   * The claim that carries the token id the revocation stores look up (`revoke(id, …)`) and that
   * their `missingJti` policy asks for. Default `'jti'`; Microsoft Entra ID tokens carry `uti`
   * (`presets.entra()` sets it). Stores get it as `context.jtiClaim`.
   */
  jtiClaim?: string
  /** Claim path(s) or a function granting scopes. Default `['scope', 'scp']`. */
  scopeClaim?: ClaimReader
  /** Claim path(s) or a function granting roles. Default `'roles'`. */
  rolesClaim?: ClaimReader
  /** Values for `{name}` segments in `scopeClaim` / `rolesClaim` paths, e.g. `{ clientId: 'orders-api' }`. */
  claimVariables?: Record<string, string>
  /** `realm` of the `WWW-Authenticate` challenge. Default `'api'`. */
  realm?: string
  /**
   * Observability hook; may be async. Never receives a token. What it throws or rejects changes no answer
   * and is reported once per guard as a process warning (`JWTGUARD_ON_EVENT_FAILED`).
   */
  onEvent?: (event: GuardEvent) => void
  /** Remote key-set cache settings. */
  jwksCache?: JwksCacheOptions
  /** Keys and rules for encrypted (JWE) access tokens; a nested JWT's inner JWS is always verified. */
  decryption?: DecryptionOptions
  /**
   * Verified-token cache: a token seen before is not verified again until
   * `min(exp, ttl)`. Revocation still runs on every request. Default
   * `{ max: 10000, ttl: 60 }`; `false` turns it off.
   */
  cache?: CacheOptions | false
  /**
   * Accept DPoP-bound tokens (RFC 9449): `Authorization: DPoP <token>` with a
   * `DPoP` proof. A token bound to a key (`cnf.jkt`) is never accepted as a
   * Bearer token, whether or not this is set. `true` for the defaults.
   */
  dpop?: DpopOptions | boolean
  /**
   * Accept certificate-bound tokens (RFC 8705 §3): a token with `cnf["x5t#S256"]` passes only
   * when the client certificate of the TLS connection (or, from a trusted proxy, of its RFC 9440
   * `Client-Cert` header) has that SHA-256 thumbprint; self-signed certificates are fine (no chain
   * validation). Without it such tokens are refused. Tokens without `cnf` are unaffected. Default off.
   */
  mtls?: MtlsOptions | false
  /**
   * RFC 9728 Protected Resource Metadata: adapters serve it on
   * `/.well-known/oauth-protected-resource[/path]`, and 401 challenges carry
   * `resource_metadata` (what MCP clients look for).
   */
  resourceMetadata?: ResourceMetadataOptions
  /** Largest token accepted, in bytes. Default 8 KiB. */
  maxTokenLength?: number
}
