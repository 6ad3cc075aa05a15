// One realistic access-token claim set per identity provider, shaped as each provider documents it.
// Time claims (iat, exp, nbf) are left out: the test issuer sets them when signing, and iss/aud are
// replaced with the test issuer's values then (see `signAs` in presets.test.ts).

/** Claims as a provider issues them. */
export type ProviderClaims = Readonly<Record<string, unknown>>

// https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles (Auth0 profile, RBAC "Add Permissions in the Access Token")
export const auth0: ProviderClaims = {
  iss: 'https://my-domain.auth0.com/',
  sub: 'auth0|123456',
  aud: ['https://example.com/health-api', 'https://my-domain.auth0.com/userinfo'],
  azp: 'my_client_id',
  scope: 'openid profile read:patients read:admin',
  permissions: ['read:patients', 'read:admin'],
  // Roles only reach an Auth0 access token through an Action, as a namespaced custom claim.
  'https://example.com/roles': ['clinician'],
}

// https://developer.okta.com/docs/reference/api/oidc/#access-token-payload (groups: /docs/guides/customize-tokens-groups-claim/)
export const okta: ProviderClaims = {
  ver: 1,
  jti: 'AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE',
  iss: 'https://dev-123456.okta.com/oauth2/default',
  aud: 'api://default',
  sub: 'john.doe@example.com',
  cid: '0oa8yixwg4GtI2Bdz5d7',
  uid: '00uk1u7AsAk6dZL3z0g3',
  scp: ['openid', 'email', 'orders.read'],
  auth_time: 1700000000,
  groups: ['Everyone', 'OrderAdmins'],
}

// https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference (v2.0, delegated: scp string)
export const entraDelegated: ProviderClaims = {
  aud: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
  iss: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
  aio: 'AWQAm/8TAAAAVDlk',
  azp: 'a2b2a1e5-2bd5-4f35-9a6c-6fd2b5e4f1a0',
  azpacr: '0',
  name: 'Abe Lincoln',
  oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
  preferred_username: 'abeli@microsoft.com',
  rh: 'I',
  scp: 'Orders.Read Orders.Write',
  roles: ['Orders.Approver'],
  sub: 'HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ',
  tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  uti: 'fqiBqXLPj0eQa82S-IYFAA',
  ver: '2.0',
}

// https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference (v2.0, client credentials: roles, no scp)
export const entraApp: ProviderClaims = {
  aud: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
  iss: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
  azp: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
  azpacr: '1',
  idtyp: 'app',
  oid: 'b6a3f0cf-1d4e-4f53-8d0c-0ab4a3b6c2de',
  rh: 'I',
  roles: ['Orders.Read.All'],
  sub: 'b6a3f0cf-1d4e-4f53-8d0c-0ab4a3b6c2de',
  tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  uti: 'rWgWX3_zZ0yLs7hXbCQAAA',
  ver: '2.0',
}

// https://www.keycloak.org/docs/latest/server_admin/#_client_scopes ("roles" scope: realm_access.roles, resource_access.${client_id}.roles)
export const keycloak: ProviderClaims = {
  jti: 'onrtac:8d1e3f1a-7c4b-4c6e-9a53-2b7f7a1f0c11',
  iss: 'https://keycloak.example.com/realms/shop',
  aud: ['orders-api', 'account'],
  sub: 'f1b0e0c4-1c2d-4a8e-9d35-3d0b8f6b2a10',
  typ: 'Bearer',
  azp: 'shop-frontend',
  sid: '4b6e3d3a-95a1-4f5e-8a6c-0d2c3f0b9e77',
  acr: '1',
  'allowed-origins': ['https://shop.example.com'],
  realm_access: { roles: ['offline_access', 'uma_authorization', 'default-roles-shop'] },
  resource_access: {
    'orders-api': { roles: ['orders-admin'] },
    account: { roles: ['manage-account', 'view-profile'] },
  },
  scope: 'openid email profile',
  email_verified: true,
  preferred_username: 'jane',
}

// https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html (no aud: client_id instead)
export const cognito: ProviderClaims = {
  sub: 'aaaaaaaa-bbbb-cccc-dddd-example',
  'cognito:groups': ['orders-admins'],
  iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example',
  version: 2,
  client_id: '1example23456789',
  origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  event_id: 'bbbbbbbb-cccc-dddd-eeee-ffffffffffff',
  token_use: 'access',
  scope: 'orders-api/read aws.cognito.signin.user.admin openid',
  auth_time: 1700000000,
  jti: 'cccccccc-dddd-eeee-ffff-000000000000',
  username: 'my-test-user',
}

// https://www.rfc-editor.org/rfc/rfc9068#section-2.2.3.1 (roles, groups, entitlements as plain string arrays)
export const rfc9068: ProviderClaims = {
  iss: 'https://authorization-server.example.com/',
  sub: '5ba552d67',
  aud: 'https://rs.example.com/',
  client_id: 's6BhdRkqt3',
  scope: 'openid profile reademail',
  auth_time: 1700000000,
  acr: 'urn:mace:incommon:iap:silver',
  amr: ['pwd'],
  roles: ['support-agent'],
  groups: ['tour-guides'],
  entitlements: ['knowledge-base'],
}

// https://www.rfc-editor.org/rfc/rfc7643#section-8.2 (the encoding RFC 9068 §2.2.3.1 says SHOULD be used: multi-valued complex attributes)
export const rfc9068Scim: ProviderClaims = {
  ...rfc9068,
  roles: [{ value: 'support-agent', display: 'Support Agent' }],
  groups: [
    {
      value: 'e9e30dba-f08f-4109-8486-d5c6a331660a',
      $ref: 'https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a',
      display: 'Tour Guides',
    },
  ],
  entitlements: [{ value: 'knowledge-base', display: 'Knowledge Base Access' }],
}
