import type { ClaimReader } from './grants.js'

/** Where a verified token's scopes and roles are read from. */
export interface GuardGrantOptions {
  /** Claim path(s) or a function granting scopes. Default `['scope', 'scp']`. */
  scopeClaim?: ClaimReader
  /** Claim path(s) or a function granting roles. Default `'roles'`. */
  rolesClaim?: ClaimReader
  /** Values for `{name}` segments in `scopeClaim` / `rolesClaim` paths, e.g. `{ clientId: 'orders-api' }`. */
  claimVariables?: Record<string, string>
}
