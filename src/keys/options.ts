import type { KeyObject } from 'node:crypto'
import type { JSONWebKeySet, JWK, JWSHeaderParameters } from 'jose'
import type { CryptoKeyLike, KeyInput } from './input.js'

export type { CryptoKeyLike, KeyInput } from './input.js'

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

/**
 * Where verification keys come from and which algorithms they may verify. At most one key source
 * (`jwksUri`, `jwks`, `publicKey`, `secret`, `getKey`); with none, keys are discovered from `issuer`.
 */
export interface GuardKeyOptions {
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
  /** Remote key-set cache settings. */
  jwksCache?: JwksCacheOptions
}
