import type { AuthInfo } from '../types.js'
import type { RevocationStore } from './store.js'

/** How a valid token is found revoked, on every request (cache hits too). */
export interface GuardRevocationOptions<C> {
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
}
