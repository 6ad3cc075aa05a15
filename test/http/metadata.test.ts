import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, requireScopes, type GuardError, type GuardOptions } from '../../src/index.js'
import type { ResourceMetadataOptions } from '../../src/http/metadata.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type AppSpec, type Running } from '../conformance/apps.js'
import { get, startAt } from '../dpop/http.js'
import { validateResourceMetadata } from './rfc9728.js'

// RFC 9728 Protected Resource Metadata, served by every adapter and pointed to from 401 challenges.

const WELL_KNOWN = '/.well-known/oauth-protected-resource'
const SCOPES = ['orders:read', 'orders:write']

let issuer: TestIssuer

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
})

afterAll(() => issuer?.close())

const guardOptions = (resourceMetadata: ResourceMetadataOptions, extra: Partial<GuardOptions> = {}): GuardOptions => ({
  issuer: issuer.issuer,
  audience: issuer.audience,
  jwksUri: issuer.jwksUri,
  resourceMetadata,
  ...extra,
})

type AppName = 'mcp' | 'dpop' | 'root'

/** Each app names its own URL as the resource: the port is known before the app is built. */
const SPECS: Record<AppName, (origin: string) => AppSpec> = {
  mcp: (origin) => ({
    guard: guardOptions({
      resource: `${origin}/mcp`,
      authorizationServers: [issuer.issuer],
      scopesSupported: SCOPES,
      resourceName: 'Orders MCP',
    }),
    routes: [
      { path: '/mcp', reply: (auth) => ({ sub: auth?.payload.sub }) },
      { path: '/mcp/write', check: (c) => c.requireScopes('orders:write'), reply: () => ({ ok: true }) },
    ],
  }),
  dpop: (origin) => ({
    guard: guardOptions({ resource: `${origin}/mcp`, authorizationServers: [issuer.issuer] }, { dpop: { algorithms: ['ES256'] } }),
    routes: [{ path: '/mcp', reply: () => ({}) }],
  }),
  root: (origin) => ({ guard: guardOptions({ resource: origin }), routes: [{ path: '/api', reply: () => ({}) }] }),
}

describe.each(FRAMEWORKS.map((f) => [f.name, f] as const))('%s', (_name, framework) => {
  const apps: Partial<Record<AppName, Running>> = {}
  const origin = (name: AppName) => apps[name]!.url

  beforeAll(async () => {
    for (const [name, spec] of Object.entries(SPECS)) apps[name as AppName] = await startAt(framework, spec)
  })

  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app.close()))
  })

  it('serves the RFC 9728 document for /mcp at /.well-known/oauth-protected-resource/mcp', async () => {
    const got = await get(`${origin('mcp')}${WELL_KNOWN}/mcp`)
    expect(got.status).toBe(200)
    expect(got.headers['content-type']).toMatch(/^application\/json(; charset=utf-8)?$/)
    const document = JSON.parse(got.body)
    expect(validateResourceMetadata(document)).toEqual([])
    expect(document).toEqual({
      resource: `${origin('mcp')}/mcp`,
      authorization_servers: [issuer.issuer],
      scopes_supported: SCOPES,
      bearer_methods_supported: ['header'],
      resource_name: 'Orders MCP',
    })
  })

  it('needs no token: even a broken Authorization header is not looked at', async () => {
    const got = await get(`${origin('mcp')}${WELL_KNOWN}/mcp`, { authorization: 'Bearer not-a-token' })
    expect(got.status).toBe(200)
    expect(JSON.parse(got.body).resource).toBe(`${origin('mcp')}/mcp`)
  })

  it('401 challenges on the resource point to the document with resource_metadata', async () => {
    const metadata = `resource_metadata="${origin('mcp')}${WELL_KNOWN}/mcp"`
    const none = await get(`${origin('mcp')}/mcp`)
    expect({ status: none.status, challenge: none.headers['www-authenticate'] }).toEqual({
      status: 401,
      challenge: `Bearer realm="api", ${metadata}`,
    })
    const expired = await get(`${origin('mcp')}/mcp`, {
      authorization: `Bearer ${await issuer.sign({}, { alg: 'ES256', expiresIn: -600 })}`,
    })
    expect({ status: expired.status, challenge: expired.headers['www-authenticate'] }).toEqual({
      status: 401,
      challenge: `Bearer realm="api", error="invalid_token", error_description="Token expired", ${metadata}`,
    })
    const ok = await get(`${origin('mcp')}/mcp`, { authorization: `Bearer ${await issuer.sign({ sub: 'alice' }, { alg: 'ES256' })}` })
    expect({ status: ok.status, body: JSON.parse(ok.body) }).toEqual({ status: 200, body: { sub: 'alice' } })
  })

  it('with dpop: the document lists the proof algorithms and the challenges add DPoP', async () => {
    const document = JSON.parse((await get(`${origin('dpop')}${WELL_KNOWN}/mcp`)).body)
    expect(validateResourceMetadata(document)).toEqual([])
    expect(document).toEqual({
      resource: `${origin('dpop')}/mcp`,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: false,
    })
    expect((await get(`${origin('dpop')}/mcp`)).headers['www-authenticate']).toBe(
      `Bearer realm="api", resource_metadata="${origin('dpop')}${WELL_KNOWN}/mcp", DPoP algs="ES256"`,
    )
  })

  it('a resource with no path is served at /.well-known/oauth-protected-resource', async () => {
    const got = await get(`${origin('root')}${WELL_KNOWN}`)
    expect(got.status).toBe(200)
    const document = JSON.parse(got.body)
    expect(validateResourceMetadata(document)).toEqual([])
    expect(document).toEqual({ resource: origin('root'), bearer_methods_supported: ['header'] })
    expect((await get(`${origin('root')}/api`)).headers['www-authenticate']).toBe(
      `Bearer realm="api", resource_metadata="${origin('root')}${WELL_KNOWN}"`,
    )
  })
})

describe('the document, built by createGuard', () => {
  const RESOURCE = 'https://api.example.com/mcp'
  const build = (options: Partial<ResourceMetadataOptions>, extra: Partial<GuardOptions> = {}) =>
    createGuard(guardOptions({ resource: RESOURCE, ...options } as ResourceMetadataOptions, extra)).protectedResource!

  it('writes every option under its RFC 9728 name, and extension members as given', () => {
    const document = build({
      authorizationServers: ['https://as.example.com'],
      scopesSupported: SCOPES,
      resourceName: 'Orders',
      resourceDocumentation: 'https://api.example.com/docs',
      resourcePolicyUri: 'https://api.example.com/policy',
      resourceTosUri: 'https://api.example.com/tos',
      extra: { 'resource_name#fr': 'Commandes', tls_client_certificate_bound_access_tokens: false },
    }).document
    expect(validateResourceMetadata(document)).toEqual([])
    expect(document).toEqual({
      resource: RESOURCE,
      authorization_servers: ['https://as.example.com'],
      scopes_supported: SCOPES,
      bearer_methods_supported: ['header'],
      resource_name: 'Orders',
      'resource_name#fr': 'Commandes',
      resource_documentation: 'https://api.example.com/docs',
      resource_policy_uri: 'https://api.example.com/policy',
      resource_tos_uri: 'https://api.example.com/tos',
      tls_client_certificate_bound_access_tokens: false,
    })
  })

  it('`extra` cannot override what the guard derives from its own settings', () => {
    const { document } = build({ extra: { resource: 'https://evil.example', bearer_methods_supported: ['body'] } })
    expect(document).toEqual({ resource: RESOURCE, bearer_methods_supported: ['header'] })
  })

  it.each<[string, Partial<GuardOptions>, string[]]>([
    ['query then header', { tokenFrom: [{ query: 'access_token' }, 'header'] }, ['query', 'header']],
    ['a cookie only: no bearer method of RFC 6750', { tokenFrom: { cookie: 'at' } }, []],
  ])('bearer_methods_supported follows tokenFrom: %s', (_name, extra, methods) => {
    const { document } = build({}, extra)
    expect(document.bearer_methods_supported).toEqual(methods)
    expect(validateResourceMetadata(document)).toEqual([])
  })

  it('dpop.required is published as dpop_bound_access_tokens_required', () => {
    expect(build({}, { dpop: { required: true, algorithms: ['ES256', 'EdDSA'] } }).document).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      dpop_bound_access_tokens_required: true,
    })
  })

  it.each<[string, string, string]>([
    [
      'https://api.example.com/mcp',
      '/.well-known/oauth-protected-resource/mcp',
      'https://api.example.com/.well-known/oauth-protected-resource/mcp',
    ],
    [
      'https://api.example.com/a/b',
      '/.well-known/oauth-protected-resource/a/b',
      'https://api.example.com/.well-known/oauth-protected-resource/a/b',
    ],
    ['https://api.example.com/', '/.well-known/oauth-protected-resource', 'https://api.example.com/.well-known/oauth-protected-resource'],
    [
      'https://api.example.com:8443',
      '/.well-known/oauth-protected-resource',
      'https://api.example.com:8443/.well-known/oauth-protected-resource',
    ],
  ])('RFC 9728 §3.1: %s is described at %s', (resource, path, url) => {
    expect(build({ resource })).toMatchObject({ path, url, document: { resource } })
  })

  // RFC 9728 §3.1: the resource's path is kept as is, a trailing slash included (§3.3: resource must match).
  it('RFC 9728 §3.1: a path ending in a slash keeps it', () => {
    expect(build({ resource: 'https://api.example.com/mcp/' }).path).toBe('/.well-known/oauth-protected-resource/mcp/')
  })

  // RFC 9728 §3.2: parameters with zero values are omitted.
  it('RFC 9728 §3.2: empty authorizationServers / scopesSupported are omitted', () => {
    expect(validateResourceMetadata(build({ authorizationServers: [], scopesSupported: [] }).document)).toEqual([])
  })

  // MCP authorization (scope step-up): a 403 insufficient_scope challenge carries resource_metadata too.
  it('a 403 insufficient_scope challenge carries resource_metadata too (MCP step-up)', async () => {
    const guard = createGuard(guardOptions({ resource: RESOURCE }))
    const auth = await guard.verify(await issuer.sign({ scope: 'orders:read' }, { alg: 'ES256' }))
    let err: GuardError | undefined
    try {
      guard.check(requireScopes('orders:write'), auth)
    } catch (e) {
      err = e as GuardError
    }
    expect(err?.headers['WWW-Authenticate']).toContain(`resource_metadata="https://api.example.com${WELL_KNOWN}/mcp"`)
  })
})

describe('bad resourceMetadata options throw a TypeError naming the member', () => {
  it.each<[string, unknown]>([
    ['resourceMetadata', 'https://api.example.com/mcp'],
    ['resourceMetadata.resource', {}],
    ['resourceMetadata.resource', { resource: 'not a url' }],
    ['resourceMetadata.resource', { resource: 'https://api.example.com/mcp#frag' }],
    ['resourceMetadata.resource', { resource: 'https://api.example.com/mcp?tenant=a' }],
    ['resourceMetadata.authorizationServers', { resource: 'https://api.example.com', authorizationServers: 'https://as.example.com' }],
    ['resourceMetadata.authorizationServers', { resource: 'https://api.example.com', authorizationServers: [42] }],
    ['resourceMetadata.scopesSupported', { resource: 'https://api.example.com', scopesSupported: [''] }],
    ['resourceMetadata.resourceName', { resource: 'https://api.example.com', resourceName: 42 }],
    ['resourceMetadata.resourceTosUri', { resource: 'https://api.example.com', resourceTosUri: {} }],
    ['resourceMetadata.extra', { resource: 'https://api.example.com', extra: 'x' }],
  ])('%s: %j', (member, resourceMetadata) => {
    const make = () => createGuard(guardOptions(resourceMetadata as ResourceMetadataOptions))
    expect(make).toThrow(TypeError)
    expect(make).toThrow(`"${member}"`)
  })

  // RFC 9728 §1.2: a resource identifier is an https URL (plain http only on loopback, for tests).
  it.each(['http://api.example.com/mcp', 'urn:example:mcp', 'ftp://api.example.com/mcp'])('resourceMetadata.resource: %s', (resource) => {
    expect(() => createGuard(guardOptions({ resource }))).toThrow('"resourceMetadata.resource"')
  })
})

describe('the RFC 9728 checker used above', () => {
  it.each<[string, unknown, string]>([
    ['no resource', { scopes_supported: ['a'] }, 'resource: REQUIRED'],
    ['a fragment in resource', { resource: 'https://a.example/x#y' }, 'resource: must be an https URL with no fragment'],
    ['a typo', { resource: 'https://a.example', scope_supported: ['a'] }, 'scope_supported: not an RFC 9728 member'],
    [
      'an empty array',
      { resource: 'https://a.example', scopes_supported: [] },
      'scopes_supported: must be a non-empty array of strings (§3.2: omit zero values)',
    ],
    [
      'alg none',
      { resource: 'https://a.example', dpop_signing_alg_values_supported: ['none'] },
      'dpop_signing_alg_values_supported: must be a non-empty array of JWS alg values, never none',
    ],
    [
      'a cookie bearer method',
      { resource: 'https://a.example', bearer_methods_supported: ['cookie'] },
      'bearer_methods_supported: must hold only "header", "body", "query", once each',
    ],
    [
      'a string boolean',
      { resource: 'https://a.example', dpop_bound_access_tokens_required: 'true' },
      'dpop_bound_access_tokens_required: must be a boolean',
    ],
  ])('reports %s', (_name, document, problem) => {
    expect(validateResourceMetadata(document)).toEqual([problem])
  })
})
