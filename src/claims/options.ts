import type { JwsAlgorithm } from '../keys/options.js'
import type { StandardSchemaV1 } from './schema.js'

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

/** What a token's header and claims must say to be accepted. */
export interface GuardClaimOptions<C> {
  /**
   * Allowed `iss` value(s), compared exactly (case-sensitive, no trailing-slash
   * leniency). Required. With no other key source each issuer is used for OIDC /
   * RFC 8414 discovery. Entries may be objects with per-issuer overrides.
   */
  issuer: string | readonly (string | IssuerOptions)[]
  /** Accepted audience(s); the token's `aud` must contain one. Required. */
  audience: string | string[]
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
}
