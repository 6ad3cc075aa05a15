// Malformed grants never grant; claim paths read own properties only; route checks answer
// 403 on a shortfall and 401 on an anonymous request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileReader } from '../../src/authz/grants.js'
import { createGuard, grantsOf, requireClaims, requireRoles, requireScopes, type AuthCheck, type Guard } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type Family, type Running } from '../conformance/apps.js'

let issuer: TestIssuer
let guard: Guard

beforeAll(async () => {
  issuer = await createTestIssuer()
  guard = createGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri })
})

afterAll(async () => {
  await issuer?.close()
})

/** Verifies a real token carrying `claims` with the default readers (`scope`/`scp`, `roles`). */
async function verified(claims: Record<string, unknown>) {
  return guard.verify(await issuer.sign(claims))
}

/** Runs a check the way adapters do, returning the error it throws (or undefined). */
function outcome(check: AuthCheck, auth: Parameters<Guard['check']>[1]) {
  try {
    guard.check(check, auth)
    return undefined
  } catch (err) {
    return err as { status: number; code: string; headers: Record<string, string>; context: Record<string, unknown> }
  }
}

const NO_ROLE = 'Bearer realm="api", error="insufficient_scope", error_description="Insufficient role"'

describe('malformed grants never grant', () => {
  // [title, claim value, exact grants]: every value also travels inside a real signed token.
  const CASES: [string, unknown, string[]][] = [
    ['an object', { admin: true }, []],
    ['a number', 1, []],
    ['a boolean', true, []],
    ['null', null, []],
    ['a nested array', [['admin']], []],
    ['a mixed array', ['admin', 1], []],
    ['an array holding null', ['admin', null], []],
    ['a comma-separated string: one grant', 'user,admin', ['user,admin']],
    ['a longer name (no substring match)', 'superadmin', ['superadmin']],
    ['a prefix (no substring match)', ['admins', 'admin:read'], ['admins', 'admin:read']],
    ['another case', 'Admin ADMIN', ['Admin', 'ADMIN']],
    ['array items keep their spaces', [' admin', 'admin ', 'user  admin'], [' admin', 'admin ', 'user  admin']],
    ['a tab is not a delimiter', 'user\tadmin', ['user\tadmin']],
    ['a no-break space is not a delimiter', 'user\u00a0admin', ['user\u00a0admin']],
    ['a lone high surrogate in a string', '\uD800admin', []],
    ['a lone low surrogate in a string', 'user \uDC00 admin', []],
    ['a lone surrogate in one array item: the whole claim', ['admin', '\uD800admin'], []],
    ['empty strings are dropped', ['', 'user'], ['user']],
  ]

  it.each(CASES)('%s', async (_title, value, grants) => {
    expect(grantsOf(value)).toEqual(grants)
    const auth = await verified({ roles: value })
    expect(auth.roles).toEqual(grants)
    expect(outcome(requireRoles('admin'), auth)).toMatchObject({
      status: 403,
      code: 'ERR_JWT_INSUFFICIENT_ROLE',
      headers: { 'WWW-Authenticate': NO_ROLE },
    })
  })

  it('a well-formed grant still grants (the table above is not vacuous)', async () => {
    const auth = await verified({ roles: 'user admin', scope: 'orders:read' })
    expect(auth.roles).toEqual(['user', 'admin'])
    expect(outcome(requireRoles('admin'), auth)).toBeUndefined()
  })

  // RFC 6749 §3.3: scope = scope-token *( SP scope-token ). Leading, trailing or doubled spaces are off
  // that grammar: the whole claim is malformed and grants nothing.
  it.each([' admin', 'admin ', 'user  admin'])('a space-delimited string off the RFC 6749 grammar (%j) grants nothing', (value) => {
    expect(grantsOf(value)).toEqual([])
  })
})

describe('claim paths', () => {
  const read = (reader: Parameters<typeof compileReader>[0], payload: Record<string, unknown>, variables: Record<string, string> = {}) =>
    compileReader(reader, variables, 'rolesClaim')(payload)

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'constructor.name', '__proto__.roles'])(
    'a prototype key as path (%s) reads nothing from a payload without it',
    (path) => {
      expect(read(path, { sub: 'x' })).toEqual([])
    },
  )

  it("rolesClaim: 'constructor' on a real token without it gives []", async () => {
    const g = createGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri, rolesClaim: 'constructor' })
    expect((await g.verify(await issuer.sign({ roles: ['admin'] }))).roles).toEqual([])
  })

  it('inherited properties are never read, at the top or deeper', () => {
    expect(read('roles', Object.create({ roles: ['admin'] }) as Record<string, unknown>)).toEqual([])
    expect(read('realm_access.roles', { realm_access: Object.create({ roles: ['admin'] }) })).toEqual([])
    // JSON.parse makes `__proto__` an own data property, not the prototype: it must not leak into `roles`.
    expect(read('roles', JSON.parse('{"__proto__": {"roles": ["admin"]}}') as Record<string, unknown>)).toEqual([])
  })

  it('a path never walks into arrays or strings', () => {
    expect(read('groups.0', { groups: ['admin'] })).toEqual([])
    expect(read('groups.length', { groups: ['admin'] })).toEqual([])
    expect(read('role.0', { role: 'admin' })).toEqual([])
  })

  it('a claim name with dots or colons is tried whole first', () => {
    expect(read('https://example.com/roles', { 'https://example.com/roles': ['admin'] })).toEqual(['admin'])
    expect(read('cognito:groups', { 'cognito:groups': ['admin'] })).toEqual(['admin'])
  })

  it('a templated segment is filled from claimVariables; segment arrays keep dots in keys; lists merge', () => {
    const payload = {
      realm_access: { roles: ['user'] },
      resource_access: { 'orders.api': { roles: ['admin', 'user'] }, orders: { api: { roles: ['decoy'] } } },
    }
    expect(read('resource_access.{client}.roles', { resource_access: { web: { roles: ['viewer'] } } }, { client: 'web' })).toEqual([
      'viewer',
    ])
    expect(read([['resource_access', 'orders.api', 'roles']], payload)).toEqual(['admin', 'user'])
    expect(read(['realm_access.roles', ['resource_access', 'orders.api', 'roles']], payload)).toEqual(['user', 'admin'])
  })

  it.each(['scopeClaim', 'rolesClaim'] as const)(
    '%s with a {var} missing from claimVariables throws a TypeError naming the option',
    (option) => {
      const options = {
        issuer: issuer.issuer,
        audience: issuer.audience,
        jwksUri: issuer.jwksUri,
        [option]: 'resource_access.{clientId}.roles',
      }
      expect(() => createGuard(options)).toThrow(TypeError)
      expect(() => createGuard(options)).toThrow(new RegExp(`option "${option}" uses \\{clientId\\}`))
      expect(() => createGuard({ ...options, claimVariables: { other: 'x' } })).toThrow(/claimVariables has no "clientId"/)
    },
  )
})

describe('requireScopes / requireRoles modes', () => {
  it("'all' needs every name, 'any' one of them", async () => {
    const auth = await verified({ scope: 'orders:read', roles: ['viewer'] })
    expect(outcome(requireScopes(['orders:read', 'orders:write']), auth)).toMatchObject({
      status: 403,
      context: { scope: ['orders:read', 'orders:write'] },
    })
    expect(outcome(requireScopes(['orders:read', 'orders:write'], { mode: 'any' }), auth)).toBeUndefined()
    expect(outcome(requireRoles(['viewer', 'editor']), auth)).toMatchObject({ status: 403, code: 'ERR_JWT_INSUFFICIENT_ROLE' })
    expect(outcome(requireRoles(['viewer', 'editor'], { mode: 'any' }), auth)).toBeUndefined()
  })
})

describe('requireClaims', () => {
  const CLAIM_FAILED = 'Bearer realm="api", error="insufficient_scope", error_description="Claim check failed"'
  const refused = { status: 403, code: 'ERR_JWT_CLAIM_CHECK_FAILED', headers: { 'WWW-Authenticate': CLAIM_FAILED } }

  // [title, expectations, claims, passes]
  const CASES: [string, Parameters<typeof requireClaims>[0], Record<string, unknown>, boolean][] = [
    ['scalar equal', { tenant: 'acme' }, { tenant: 'acme' }, true],
    ['scalar different', { tenant: 'acme' }, { tenant: 'acme-evil' }, false],
    ['scalar compared strictly by type', { level: 1 }, { level: '1' }, false],
    ['scalar contained in an array claim', { groups: 'ops' }, { groups: ['dev', 'ops'] }, true],
    ['scalar absent from an array claim', { groups: 'ops' }, { groups: ['dev', 'ops-admin'] }, false],
    ['array expected, subset of the array claim', { amr: ['pwd', 'mfa'] }, { amr: ['mfa', 'otp', 'pwd'] }, true],
    ['array expected, not a subset', { amr: ['pwd', 'mfa'] }, { amr: ['pwd'] }, false],
    ['array expected, scalar claim', { amr: ['mfa'] }, { amr: 'mfa' }, false],
    ['every key must match', { tenant: 'acme', plan: 'pro' }, { tenant: 'acme', plan: 'free' }, false],
    ['missing claim', { tenant: 'acme' }, {}, false],
    ['inherited key is not a claim', { toString: 'x' }, {}, false],
  ]

  it.each(CASES)('%s', async (_title, expected, claims, passes) => {
    const result = outcome(requireClaims(expected), await verified(claims))
    if (passes) expect(result).toBeUndefined()
    else expect(result).toMatchObject({ ...refused, context: { reason: 'check_failed' } })
  })

  it('a predicate that throws is a server fault: 500 ERR_CALLBACK_FAILED, not a 403; the cause is kept', async () => {
    const boom = new Error('predicate bug')
    const result = outcome(
      requireClaims(() => {
        throw boom
      }),
      await verified({}),
    )
    expect(result).toMatchObject({ status: 500, code: 'ERR_CALLBACK_FAILED', context: { callback: 'requireClaims' }, cause: boom })
  })

  it('a predicate must return true itself: a truthy value is not consent', async () => {
    const truthy = (() => 'yes') as unknown as () => boolean
    expect(outcome(requireClaims(truthy), await verified({}))).toMatchObject(refused)
    expect(
      outcome(
        requireClaims((p) => p.tenant === 'acme'),
        await verified({ tenant: 'acme' }),
      ),
    ).toBeUndefined()
  })
})

describe('on an anonymous request (authRequired: false) every check answers 401 with the bare challenge', () => {
  const CHECKS: [string, AuthCheck][] = [
    ['requireScopes', requireScopes('orders:read')],
    ['requireRoles', requireRoles('admin')],
    ['requireClaims', requireClaims({ tenant: 'acme' })],
  ]

  it.each(CHECKS)('core: %s', async (_name, check) => {
    const optional = createGuard({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      authRequired: false,
      realm: 'orders',
    })
    const auth = await optional.authenticate({ headers: {} })
    expect(auth).toBeUndefined()
    expect(() => optional.check(check, auth)).toThrow(
      expect.objectContaining({ status: 401, code: 'ERR_JWT_MISSING', headers: { 'WWW-Authenticate': 'Bearer realm="orders"' } }),
    )
  })

  // Each framework's default handler renders the error its own way; the code shows in each.
  const codeIn: Record<Family, (body: string) => void> = {
    express: (body) => expect(body).toContain('GuardError [ERR_JWT_MISSING]: Authentication required'),
    koa: (body) => expect(body).toBe('Authentication required'),
    fastify: (body) => expect(JSON.parse(body)).toMatchObject({ statusCode: 401, code: 'ERR_JWT_MISSING' }),
  }

  describe.each(FRAMEWORKS.map((f) => [f.name, f] as const))('%s', (_name, framework) => {
    let app: Running
    beforeAll(async () => {
      app = await framework.start({
        guard: { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri, authRequired: false },
        routes: [
          { path: '/scoped', check: (c) => c.requireScopes('orders:read'), reply: () => ({ ok: true }) },
          { path: '/role', check: (c) => c.requireRoles('admin'), reply: () => ({ ok: true }) },
          { path: '/claims', check: (c) => c.requireClaims({ tenant: 'acme' }), reply: () => ({ ok: true }) },
        ],
      })
    })
    afterAll(async () => {
      await app?.close()
    })

    it.each(['/scoped', '/role', '/claims'])('%s', async (path) => {
      const res = await fetch(app.url + path)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"')
      codeIn[framework.family](await res.text())
    })
  })
})
