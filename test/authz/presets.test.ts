// Each provider preset, with a token shaped as that provider documents it, on all six framework
// versions through real HTTP: the preset must read exactly the provider's scopes and roles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, presets, requireRoles, type ClaimPreset } from '../../src/index.js'
import { createTestIssuer, type SignOptions, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type AppSpec, type Running } from '../conformance/apps.js'
import * as providers from './providers.js'
import type { ProviderClaims } from './providers.js'

interface ProviderToken {
  name: string
  claims: ProviderClaims
  sign?: SignOptions
  /** Exactly what the preset must read, in claim order. */
  scopes: string[]
  roles: string[]
}

interface Provider {
  name: string
  preset: ClaimPreset
  /** The guard's `audience`, when the provider does not put the issuer's default in `aud`. */
  audience?: string
  /** A scope and a role the provider's tokens grant, and one scope and one role they never do. */
  scope: string
  role: string
  missingScope: string
  missingRole: string
  tokens: ProviderToken[]
}

const PROVIDERS: Provider[] = [
  {
    name: 'auth0',
    preset: presets.auth0({ rolesClaim: 'https://example.com/roles' }),
    scope: 'read:patients',
    role: 'clinician',
    missingScope: 'write:patients',
    missingRole: 'admin',
    tokens: [
      {
        name: 'RBAC token',
        claims: providers.auth0,
        scopes: ['openid', 'profile', 'read:patients', 'read:admin'],
        roles: ['clinician'],
      },
    ],
  },
  {
    name: 'okta',
    preset: presets.okta(),
    scope: 'orders.read',
    role: 'OrderAdmins',
    missingScope: 'orders.write',
    missingRole: 'Admins',
    tokens: [
      { name: 'custom AS token', claims: providers.okta, scopes: ['openid', 'email', 'orders.read'], roles: ['Everyone', 'OrderAdmins'] },
    ],
  },
  {
    name: 'entra',
    preset: presets.entra(),
    scope: 'Orders.Read',
    role: 'Orders.Read.All',
    missingScope: 'Orders.Delete',
    missingRole: 'Orders.Admin',
    tokens: [
      { name: 'delegated token', claims: providers.entraDelegated, scopes: ['Orders.Read', 'Orders.Write'], roles: ['Orders.Approver'] },
      { name: 'app-only token', claims: providers.entraApp, scopes: [], roles: ['Orders.Read.All'] },
    ],
  },
  {
    name: 'keycloak',
    preset: presets.keycloak({ clientId: 'orders-api' }),
    scope: 'email',
    role: 'orders-admin',
    missingScope: 'orders:write',
    // A role of another client (`account`) is not a role of this API.
    missingRole: 'manage-account',
    tokens: [
      {
        name: 'realm + client roles',
        claims: providers.keycloak,
        scopes: ['openid', 'email', 'profile'],
        roles: ['offline_access', 'uma_authorization', 'default-roles-shop', 'orders-admin'],
      },
    ],
  },
  {
    name: 'cognito',
    preset: presets.cognito(),
    // Cognito access tokens name the app client in `client_id`, which the preset checks instead of `aud`.
    audience: providers.cognito.client_id as string,
    scope: 'orders-api/read',
    role: 'orders-admins',
    missingScope: 'orders-api/write',
    missingRole: 'admins',
    tokens: [
      {
        name: 'access token',
        claims: providers.cognito,
        scopes: ['orders-api/read', 'aws.cognito.signin.user.admin', 'openid'],
        roles: ['orders-admins'],
      },
    ],
  },
  {
    name: 'rfc9068',
    preset: presets.rfc9068(),
    scope: 'reademail',
    role: 'tour-guides',
    missingScope: 'writeemail',
    missingRole: 'admins',
    tokens: [
      {
        name: 'at+jwt',
        claims: providers.rfc9068,
        sign: { typ: 'at+jwt' },
        scopes: ['openid', 'profile', 'reademail'],
        roles: ['support-agent', 'tour-guides', 'knowledge-base'],
      },
    ],
  },
]

/** Signs a provider's claims as the test issuer: its iss and aud replace the provider's. */
function signAs(issuer: TestIssuer, claims: ProviderClaims, options?: SignOptions): Promise<string> {
  return issuer.sign({ ...claims, iss: issuer.issuer, aud: issuer.audience }, options)
}

function providerApp(issuer: TestIssuer, p: Provider): AppSpec {
  return {
    guard: { issuer: issuer.issuer, audience: p.audience ?? issuer.audience, jwksUri: issuer.jwksUri, ...p.preset },
    routes: [
      { path: '/protected', reply: (auth) => ({ sub: auth?.payload.sub, scopes: auth?.scopes, roles: auth?.roles }) },
      { path: '/scoped', check: (c) => c.requireScopes(p.scope), reply: () => ({ ok: true }) },
      { path: '/scoped-missing', check: (c) => c.requireScopes([p.scope, p.missingScope]), reply: () => ({ ok: true }) },
      { path: '/role', check: (c) => c.requireRoles(p.role), reply: () => ({ ok: true }) },
      { path: '/role-missing', check: (c) => c.requireRoles(p.missingRole), reply: () => ({ ok: true }) },
    ],
  }
}

const CHALLENGE = 'Bearer realm="api", error="insufficient_scope"'
const noScope = (needed: string) => `${CHALLENGE}, error_description="Insufficient scope", scope="${needed}"`
const noRole = `${CHALLENGE}, error_description="Insufficient role"`

interface Expected {
  path: string
  status: number
  challenge?: string
  /** Exact JSON body of a 200. */
  body?: unknown
}

/** What each route must answer for a token: derived from the exact grants the table lists. */
function expectations(p: Provider, t: ProviderToken): Expected[] {
  const ok = { ok: true }
  const hasScope = t.scopes.includes(p.scope)
  const hasRole = t.roles.includes(p.role)
  return [
    { path: '/protected', status: 200, body: { sub: t.claims.sub, scopes: t.scopes, roles: t.roles } },
    hasScope ? { path: '/scoped', status: 200, body: ok } : { path: '/scoped', status: 403, challenge: noScope(p.scope) },
    { path: '/scoped-missing', status: 403, challenge: noScope(`${p.scope} ${p.missingScope}`) },
    hasRole ? { path: '/role', status: 200, body: ok } : { path: '/role', status: 403, challenge: noRole },
    { path: '/role-missing', status: 403, challenge: noRole },
  ]
}

let issuer: TestIssuer
const tokens = new Map<ProviderToken, string>()

beforeAll(async () => {
  issuer = await createTestIssuer()
  for (const p of PROVIDERS) for (const t of p.tokens) tokens.set(t, await signAs(issuer, t.claims, t.sign))
})

afterAll(async () => {
  await issuer?.close()
})

describe.each(FRAMEWORKS.map((f) => [f.name, f] as const))('%s', (_name, framework) => {
  const apps = new Map<Provider, Running>()

  beforeAll(async () => {
    for (const p of PROVIDERS) apps.set(p, await framework.start(providerApp(issuer, p)))
  })

  afterAll(async () => {
    await Promise.all([...apps.values()].map((app) => app.close()))
  })

  const rows = PROVIDERS.flatMap((p) =>
    p.tokens.flatMap((t) => expectations(p, t).map((e) => [`${p.name} ${t.name} ${e.path}`, p, t, e] as const)),
  )

  it.each(rows)('%s', async (_title, p, t, e) => {
    const res = await fetch(apps.get(p)!.url + e.path, { headers: { authorization: `Bearer ${tokens.get(t)}` } })
    const text = await res.text()
    expect(res.status).toBe(e.status)
    expect(res.headers.get('www-authenticate') ?? undefined).toBe(e.challenge)
    if (e.status === 200) expect(JSON.parse(text)).toEqual(e.body)
  })
})

describe('presets beyond the table', () => {
  const guardWith = (preset: ClaimPreset, audience: string = issuer.audience as string) =>
    createGuard({ issuer: issuer.issuer, audience, jwksUri: issuer.jwksUri, ...preset })

  it('keycloak({ clientId }) reads a client id that contains dots as one segment', async () => {
    const claims = {
      ...providers.keycloak,
      resource_access: { 'orders.api': { roles: ['orders-admin'] }, orders: { api: { roles: ['x'] } } },
    }
    const auth = await guardWith(presets.keycloak({ clientId: 'orders.api' })).verify(await signAs(issuer, claims))
    expect(auth.roles).toEqual(['offline_access', 'uma_authorization', 'default-roles-shop', 'orders-admin'])
  })

  it('keycloak() without clientId reads realm roles only', async () => {
    const auth = await guardWith(presets.keycloak()).verify(await signAs(issuer, providers.keycloak))
    expect(auth.roles).toEqual(['offline_access', 'uma_authorization', 'default-roles-shop'])
  })

  it('auth0() reads `roles` by default', async () => {
    const auth = await guardWith(presets.auth0()).verify(await signAs(issuer, { ...providers.auth0, roles: ['nurse'] }))
    expect(auth.roles).toEqual(['nurse'])
    expect(auth.scopes).toEqual(['openid', 'profile', 'read:patients', 'read:admin'])
  })

  // Okta group names may contain spaces ("Order Admins"); a role given in an array is one exact string.
  it('requireRoles([...]) accepts an Okta group name that contains a space', async () => {
    const auth = await guardWith(presets.okta()).verify(await signAs(issuer, { ...providers.okta, groups: ['Order Admins'] }))
    expect(auth.roles).toEqual(['Order Admins'])
    expect(() => requireRoles(['Order Admins'])(auth)).not.toThrow()
  })

  // Cognito access tokens carry no `aud`: the preset checks `audience` against `client_id`.
  it('cognito(): a real access token (no aud, client_id) is accepted', async () => {
    const token = await issuer.sign({ ...providers.cognito, iss: issuer.issuer, aud: undefined })
    const auth = await guardWith(presets.cognito(), providers.cognito.client_id as string).verify(token)
    expect(auth.roles).toEqual(['orders-admins'])
  })

  // Cognito ID tokens carry the app client id in `aud`; the preset requires `token_use: 'access'`.
  it("cognito(): an ID token (token_use: 'id') is refused", async () => {
    const clientId = providers.cognito.client_id as string
    const idToken = await issuer.sign({
      sub: providers.cognito.sub,
      'cognito:groups': ['orders-admins'],
      iss: issuer.issuer,
      aud: clientId,
      token_use: 'id',
      email: 'jane@example.com',
    })
    await expect(guardWith(presets.cognito(), clientId).verify(idToken)).rejects.toMatchObject({ status: 401 })
  })

  // RFC 9068 §2.2.3.1: roles/groups/entitlements SHOULD be encoded per RFC 7643, whose values are
  // objects with a `value` (RFC 7643 §8.2); the preset reads those `value`s.
  it('rfc9068() reads RFC 7643 complex values ({ value })', async () => {
    const auth = await guardWith(presets.rfc9068()).verify(await signAs(issuer, providers.rfc9068Scim))
    expect(auth.roles).toEqual(['support-agent', 'e9e30dba-f08f-4109-8486-d5c6a331660a', 'knowledge-base'])
  })
})
