// The environment can say what code can: presets, claim paths, typ, clock tolerance, token age,
// required claims, token sources and DPoP, each refused with a message naming the variable when
// its value is wrong, and any other JWT_* variable reported at start.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createGuard, optionsFromEnv, presets } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type Route } from '../conformance/apps.js'

const BASE = { JWT_ISSUER: 'https://idp.example.com/', JWT_AUDIENCE: 'orders-api' }

afterEach(() => {
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

describe('optionsFromEnv reads every JWT_* variable', () => {
  it.each([
    ['auth0', presets.auth0()],
    ['okta', presets.okta()],
    ['entra', presets.entra()],
    ['keycloak', presets.keycloak()],
    ['cognito', presets.cognito()],
  ])('JWT_PRESET=%s spreads that preset', (name, preset) => {
    expect(optionsFromEnv({ ...BASE, JWT_PRESET: name })).toEqual({ issuer: BASE.JWT_ISSUER, audience: 'orders-api', ...preset })
  })

  it('JWT_PRESET=rfc9068 spreads its scope claim and its roles reader', () => {
    const options = optionsFromEnv({ ...BASE, JWT_PRESET: 'rfc9068' })
    expect(options.scopeClaim).toBe('scope')
    expect(typeof options.rolesClaim).toBe('function')
  })

  it('JWT_PRESET_CLIENT_ID gives Keycloak client roles too', () => {
    expect(optionsFromEnv({ ...BASE, JWT_PRESET: 'keycloak', JWT_PRESET_CLIENT_ID: 'orders' })).toMatchObject(
      presets.keycloak({ clientId: 'orders' }),
    )
  })

  it('JWT_SCOPE_CLAIM and JWT_ROLES_CLAIM (comma-separated paths) override the preset', () => {
    const options = optionsFromEnv({
      ...BASE,
      JWT_PRESET: 'okta',
      JWT_SCOPE_CLAIM: 'scp, permissions',
      JWT_ROLES_CLAIM: 'realm_access.roles',
    })
    expect(options.scopeClaim).toEqual(['scp', 'permissions'])
    expect(options.rolesClaim).toEqual(['realm_access.roles'])
  })

  it('reads typ, durations, required claims, token sources and DPoP', () => {
    expect(
      optionsFromEnv({
        ...BASE,
        JWT_TYP: 'at+jwt',
        JWT_CLOCK_TOLERANCE: '30',
        JWT_MAX_TOKEN_AGE: '2h',
        JWT_REQUIRED_CLAIMS: 'sub, jti',
        JWT_TOKEN_FROM: 'header, cookie:session, query:access_token, body:access_token',
        JWT_DPOP: 'required',
      }),
    ).toEqual({
      issuer: BASE.JWT_ISSUER,
      audience: 'orders-api',
      typ: 'at+jwt',
      clockTolerance: 30,
      maxTokenAge: 7200,
      requiredClaims: ['sub', 'jti'],
      tokenFrom: ['header', { cookie: 'session' }, { query: 'access_token' }, { body: 'access_token' }],
      dpop: { required: true },
    })
    expect(optionsFromEnv({ ...BASE, JWT_DPOP: 'true' }).dpop).toBe(true)
    expect(optionsFromEnv({ ...BASE, JWT_DPOP: 'false' }).dpop).toBeUndefined()
  })

  it.each([
    [{ JWT_PRESET: 'keycloack' }, /JWT_PRESET must be one of auth0, okta, entra, keycloak, cognito, rfc9068: did you mean "keycloak"\?/],
    [{ JWT_PRESET: '__proto__' }, /JWT_PRESET must be one of/],
    [{ JWT_PRESET: 'constructor' }, /JWT_PRESET must be one of/],
    [{ JWT_PRESET_CLIENT_ID: 'x' }, /JWT_PRESET_CLIENT_ID is set but JWT_PRESET is not/],
    [{ JWT_PRESET: 'okta', JWT_PRESET_CLIENT_ID: 'x' }, /JWT_PRESET_CLIENT_ID applies to JWT_PRESET=keycloak only/],
    [{ JWT_CLOCK_TOLERANCE: 'soon' }, /JWT_CLOCK_TOLERANCE must be a number of seconds/],
    [{ JWT_CLOCK_TOLERANCE: '-5' }, /JWT_CLOCK_TOLERANCE must be a number of seconds/],
    [{ JWT_MAX_TOKEN_AGE: '1 fortnight' }, /JWT_MAX_TOKEN_AGE must be a number of seconds/],
    [{ JWT_TOKEN_FROM: 'cookie:' }, /JWT_TOKEN_FROM has "cookie:"/],
    [{ JWT_TOKEN_FROM: 'form:access_token' }, /JWT_TOKEN_FROM has "form:access_token"/],
    [{ JWT_TOKEN_FROM: 'body:' }, /JWT_TOKEN_FROM has "body:"/],
    [{ JWT_TOKEN_FROM: 'query:a:b' }, /JWT_TOKEN_FROM has "query:a:b"/],
    [{ JWT_DPOP: 'yes' }, /JWT_DPOP must be true, required or false/],
  ])('refuses %j with a TypeError naming the variable', (extra, message) => {
    expect(() => optionsFromEnv({ ...BASE, ...extra })).toThrow(TypeError)
    expect(() => optionsFromEnv({ ...BASE, ...extra })).toThrow(message)
  })

  it('reports an unknown JWT_* variable once, naming the closest known one, and ignores other variables', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    optionsFromEnv({ ...BASE, JWT_AUDIANCE: 'x', JWT_SCOPES_CLAIM: 'scp', JWT_FOO: '1', HOME: '/root', NODE_ENV: 'test' })
    const messages = warn.mock.calls.map((call) => String(call[0]))
    expect(messages).toEqual([
      'environment variable JWT_AUDIANCE is not read by jwtguard: did you mean JWT_AUDIENCE?',
      'environment variable JWT_SCOPES_CLAIM is not read by jwtguard: did you mean JWT_SCOPE_CLAIM?',
      'environment variable JWT_FOO is not read by jwtguard',
    ])
    expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'JWTGUARD_UNKNOWN_ENV' })
  })

  it('every option it produces is one createGuard accepts', () => {
    const options = optionsFromEnv({
      ...BASE,
      JWT_PRESET: 'keycloak',
      JWT_PRESET_CLIENT_ID: 'orders',
      JWT_TYP: 'at+jwt',
      JWT_CLOCK_TOLERANCE: '10s',
      JWT_MAX_TOKEN_AGE: '3600',
      JWT_REQUIRED_CLAIMS: 'sub',
      JWT_TOKEN_FROM: 'header,cookie:at',
      JWT_DPOP: 'true',
    })
    expect(() => createGuard(options)).not.toThrow()
  })
})

describe('a Keycloak service configured by the environment alone', () => {
  let issuer: TestIssuer
  beforeAll(async () => {
    issuer = await createTestIssuer()
  })
  afterAll(async () => {
    await issuer?.close()
  })

  const routes: Route[] = [
    { path: '/admin', check: (c) => c.requireRoles('admin'), reply: (auth) => ({ roles: auth?.roles }) },
    { path: '/orders', check: (c) => c.requireScopes('orders:read'), reply: (auth) => ({ scopes: auth?.scopes }) },
  ]

  describe.each(FRAMEWORKS)('on $name', (framework) => {
    it('gets roles from realm_access.roles and client roles, scopes from scope', async () => {
      vi.stubEnv('JWT_ISSUER', issuer.issuer)
      vi.stubEnv('JWT_AUDIENCE', issuer.audience as string)
      vi.stubEnv('JWT_PRESET', 'keycloak')
      vi.stubEnv('JWT_PRESET_CLIENT_ID', 'orders')
      const app = await framework.start({ guard: undefined, routes })
      try {
        const admin = await issuer.sign({ realm_access: { roles: ['admin'] }, scope: 'orders:read' })
        const client = await issuer.sign({ resource_access: { orders: { roles: ['admin'] } } })
        const nobody = await issuer.sign({ roles: ['admin'] })
        const get = (path: string, token: string) => fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
        expect((await get('/admin', admin)).status).toBe(200)
        expect((await get('/admin', client)).status).toBe(200)
        expect((await get('/admin', nobody)).status).toBe(403)
        expect((await get('/orders', admin)).status).toBe(200)
        expect((await get('/orders', client)).status).toBe(403)
      } finally {
        await app.close()
      }
    })
  })
})
