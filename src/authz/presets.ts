import { grantsOf, type ClaimReader } from './grants.js'

/** Where one identity provider puts scopes and roles; spread into the guard options. */
export interface ClaimPreset {
  scopeClaim: ClaimReader
  rolesClaim: ClaimReader
  audienceClaim?: string
  expectedClaims?: Record<string, string | number | boolean>
  /** The claim carrying the token id for revocation, when the provider does not use `jti`. */
  jtiClaim?: string
}

/**
 * RFC 7643 multi-valued attributes (RFC 9068 §2.2.3.1): plain strings, or
 * objects whose `value` is the grant (`display` is for people and never
 * grants). One malformed element and the claim grants nothing.
 */
function scimValues(value: unknown): unknown {
  if (!Array.isArray(value)) return value
  return value.map((item) =>
    typeof item === 'object' && item !== null && !Array.isArray(item) && Object.hasOwn(item, 'value')
      ? (item as { value: unknown }).value
      : item,
  )
}

/**
 * Presets for the common identity providers. Spread one into the options:
 * `createGuard({ issuer, audience, ...presets.keycloak({ clientId: 'orders-api' }) })`.
 * Each documents the token shape it reads; docs/presets.md lists where each reads scopes and roles.
 */
export const presets = {
  /** Auth0: `scope` (string) and RBAC `permissions` (array) both grant scopes; roles from a namespaced claim you add in an Action. */
  auth0: (options: { rolesClaim?: string } = {}): ClaimPreset => ({
    scopeClaim: ['scope', 'permissions'],
    rolesClaim: options.rolesClaim ?? 'roles',
  }),
  /** Okta: `scp` is an array of scopes; `groups` (when the groups claim is configured) are roles. */
  okta: (): ClaimPreset => ({ scopeClaim: 'scp', rolesClaim: 'groups' }),
  /**
   * Microsoft Entra ID: `scp` is a space-delimited string (delegated), `roles` an array (app permissions and
   * app roles). Its access tokens carry no `jti`: their id, for revocation, is `uti`.
   */
  entra: (): ClaimPreset => ({ scopeClaim: 'scp', rolesClaim: 'roles', jtiClaim: 'uti' }),
  /** Keycloak: `scope` string; realm roles in `realm_access.roles`, client roles in `resource_access.<clientId>.roles`. */
  keycloak: (options: { clientId?: string } = {}): ClaimPreset => ({
    scopeClaim: 'scope',
    rolesClaim:
      options.clientId === undefined ? 'realm_access.roles' : ['realm_access.roles', ['resource_access', options.clientId, 'roles']],
  }),
  /**
   * Amazon Cognito access tokens: `scope` string; user-pool groups in
   * `cognito:groups`. They carry no `aud`: set `audience` to your app client
   * id, checked against `client_id`; ID tokens (`token_use: 'id'`) are refused.
   */
  cognito: (): ClaimPreset => ({
    scopeClaim: 'scope',
    rolesClaim: 'cognito:groups',
    audienceClaim: 'client_id',
    expectedClaims: { token_use: 'access' },
  }),
  /** RFC 9068 JWT access tokens: `scope`; `roles`, `groups` and `entitlements` (RFC 7643 attributes, §2.2.3.1). */
  rfc9068: (): ClaimPreset => ({
    scopeClaim: 'scope',
    rolesClaim: (payload) =>
      ['roles', 'groups', 'entitlements'].flatMap((claim) =>
        grantsOf(scimValues(Object.hasOwn(payload, claim) ? payload[claim] : undefined)),
      ),
  }),
} as const

export type PresetName = keyof typeof presets
