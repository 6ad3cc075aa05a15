import type { JWSHeaderParameters } from 'jose'

/** Registered claims of an access token (RFC 7519 §4.1, RFC 9068 §2.2). */
export interface JwtRegisteredClaims {
  iss?: string
  sub?: string
  aud?: string | string[]
  exp?: number
  nbf?: number
  iat?: number
  jti?: string
  client_id?: string
  scope?: string
}

/** Registered claims, and any other claim as `unknown`: the payload type before you declare yours. */
export interface RegisteredClaims extends JwtRegisteredClaims {
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

/**
 * The claims type used when no other is given. Until `Claims` is augmented, any
 * claim reads as `unknown`; once it is, the payload is exactly the registered
 * claims plus yours, so a misspelt claim name does not compile.
 */
export type DefaultClaims = [keyof Claims] extends [never] ? RegisteredClaims : JwtRegisteredClaims & Claims

/** The output type of a Standard Schema: `interface Claims extends InferClaims<typeof schema> {}`. */
export type InferClaims<S> = S extends { readonly '~standard': { readonly types?: infer T } }
  ? NonNullable<T> extends { readonly output: infer O }
    ? O
    : never
  : never

/** What a verified request carries: `req.auth`, `ctx.state.auth`, `request.auth`. */
export interface AuthInfo<C = DefaultClaims> {
  /** The raw token as received. */
  token: string
  /** The protected header of the verified JWS (the inner one for a nested JWT). */
  header: JWSHeaderParameters
  /**
   * The verified claims as your route should see them: what `claimsSchema`
   * returned, or, without a schema, the signed claims themselves (then the same
   * object as `claims`). No decision of the guard reads it.
   */
  payload: C
  /**
   * The verified claims exactly as signed, deeply frozen. Every decision reads
   * these, never `payload`: revocation (the token id, `sub`, `iat`), the DPoP
   * binding (`cnf`), scopes, roles and `requireClaims` values. Read them in
   * `isRevoked` and custom revocation stores, so a schema that strips or
   * reshapes a claim cannot change the answer.
   */
  readonly claims: Readonly<Record<string, unknown>>
  /** Granted scopes, exact strings. */
  scopes: string[]
  /** Granted roles, exact strings. */
  roles: string[]
  /** `true` when the token arrived as a JWE. */
  encrypted: boolean
  /** The key a sender-constrained token is bound to (RFC 7800 `cnf`; `jkt` for DPoP), read before any schema transform. */
  cnf?: { jkt?: string; 'x5t#S256'?: string }
}
