import type { JWSHeaderParameters } from 'jose'

/** Registered claims of an access token (RFC 7519 §4.1, RFC 9068 §2.2). */
export interface RegisteredClaims {
  iss?: string
  sub?: string
  aud?: string | string[]
  exp?: number
  nbf?: number
  iat?: number
  jti?: string
  client_id?: string
  scope?: string
  [claim: string]: unknown
}

/**
 * Augment this interface once to type every `auth.payload` of your app:
 *
 * ```ts
 * declare module 'jwtguard' {
 *   interface Claims { tenant: string }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Claims {}

/** The claims type used when no other is given: registered claims plus your augmentation. */
export type DefaultClaims = RegisteredClaims & Claims

/** What a verified request carries: `req.auth`, `ctx.state.auth`, `request.auth`. */
export interface AuthInfo<C = DefaultClaims> {
  /** The raw token as received. */
  token: string
  /** The protected header of the verified JWS (the inner one for a nested JWT). */
  header: JWSHeaderParameters
  /** The verified claims. */
  payload: C
  /** Granted scopes, exact strings. */
  scopes: string[]
  /** Granted roles, exact strings. */
  roles: string[]
  /** `true` when the token arrived as a JWE. */
  encrypted: boolean
}
