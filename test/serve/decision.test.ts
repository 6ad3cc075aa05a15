// The decision endpoint in-process, against a real JWKS server over loopback: statuses, challenges,
// identity headers, route rules, trust of forwarded headers, hostile input, operations endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { getRaw } from '../helpers/shared.js'
import { clientKey, signProof } from '../dpop/fixtures.js'
import { ask, startGateway, type Gateway } from './helpers.js'

const AUDIENCE = 'https://api.example.test'
let idp: TestIssuer
let gateway: Gateway

const ROUTES = [
  { match: 'GET /public/*', auth: false },
  { match: 'GET /orders/*', scopes: ['orders:read'] },
  { match: 'POST /orders', scopes: ['orders:write', 'orders:admin'], mode: 'any' },
  { match: '* /admin/*', roles: ['admin'] },
  { match: '* /tenants/acme/*', claims: { tid: 'acme' } },
  { match: 'GET /me', auth: true },
]

function configFor(idpServer: TestIssuer, extra: Record<string, unknown> = {}) {
  return {
    guard: { issuer: idpServer.issuer, audience: AUDIENCE, jwksUri: idpServer.jwksUri },
    routes: ROUTES,
    default: 'deny',
    claimHeaders: { 'X-Auth-Tenant': 'tid', 'X-Auth-Email': 'email' },
    ...extra,
  }
}

beforeAll(async () => {
  idp = await createTestIssuer({ algorithms: ['ES256'], audience: AUDIENCE })
  gateway = await startGateway(configFor(idp))
})
afterAll(async () => {
  await gateway?.handle.close()
  await idp?.close()
})

describe('jwtguard serve: /verify', () => {
  it('answers 200 with the identity headers for the upstream', async () => {
    const token = await idp.sign({ scope: 'orders:read profile', roles: ['admin', 'ops'], tid: 'acme', email: 'a@example.test' })
    const res = await ask(gateway, { uri: '/orders/42?expand=1', token })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-auth-subject')).toBe('user-123')
    expect(res.headers.get('x-auth-scopes')).toBe('orders:read profile')
    expect(res.headers.get('x-auth-roles')).toBe('admin ops')
    expect(res.headers.get('x-auth-issuer')).toBe(idp.issuer)
    expect(res.headers.get('x-auth-tenant')).toBe('acme')
    expect(res.headers.get('x-auth-email')).toBe('a@example.test')
    // The same token again comes from the cache, with the same headers.
    const again = await ask(gateway, { uri: '/orders/42', token })
    expect(again.headers.get('x-auth-subject')).toBe('user-123')
  })

  it('answers 401 with the bare challenge without a token, and invalid_token for a bad one', async () => {
    const missing = await ask(gateway, { uri: '/orders/1' })
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="api"')
    expect(JSON.parse(missing.body)).toEqual({ code: 'ERR_JWT_MISSING', message: 'Authentication required' })
    const expired = await idp.sign({ scope: 'orders:read', exp: Math.floor(Date.now() / 1000) - 3600 })
    const res = await ask(gateway, { uri: '/orders/1', token: expired })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="invalid_token", error_description="/)
    expect(res.body).not.toContain(expired)
  })

  it('answers 403 insufficient_scope with the required scopes, roles and claims checked', async () => {
    const reader = await idp.sign({ scope: 'profile' })
    const res = await ask(gateway, { uri: '/orders/7', token: reader })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope", scope="orders:read"',
    )
    expect(res.headers.get('x-auth-subject')).toBeNull()
    // mode any: one of the two scopes is enough.
    expect((await ask(gateway, { method: 'POST', uri: '/orders', token: await idp.sign({ scope: 'orders:admin' }) })).status).toBe(200)
    // The method is part of the match: POST /orders/7 matches no rule, and the default denies.
    expect((await ask(gateway, { method: 'POST', uri: '/orders/7', token: reader })).status).toBe(403)
    expect((await ask(gateway, { method: 'DELETE', uri: '/admin/users', token: reader })).status).toBe(403)
    expect((await ask(gateway, { uri: '/admin/x', token: await idp.sign({ roles: ['admin'] }) })).status).toBe(200)
    expect((await ask(gateway, { uri: '/tenants/acme/a', token: await idp.sign({ tid: 'other' }) })).status).toBe(403)
    expect((await ask(gateway, { uri: '/tenants/acme/a', token: await idp.sign({ tid: 'acme' }) })).status).toBe(200)
  })

  it('lets auth: false routes through without a token and without identity', async () => {
    const res = await ask(gateway, { uri: '/public/logo.png?v=2' })
    expect(res.status).toBe(200)
    // Every identity header, empty: the gateway overwrites the client's with nothing.
    for (const header of ['x-auth-subject', 'x-auth-scopes', 'x-auth-roles', 'x-auth-issuer', 'x-auth-tenant'])
      expect(res.headers.get(header), header).toBe('')
  })

  it('denies unmatched paths with default "deny", token or not; "authenticate" takes any valid token', async () => {
    const token = await idp.sign({ scope: 'orders:read' })
    const denied = await ask(gateway, { uri: '/elsewhere', token })
    expect(denied.status).toBe(403)
    expect(JSON.parse(denied.body).code).toBe('ERR_ROUTE_DENIED')
    expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect((await ask(gateway, { uri: '/elsewhere' })).status).toBe(403)
    const open = await startGateway(configFor(idp, { default: 'authenticate' }))
    try {
      expect((await ask(open, { uri: '/elsewhere', token })).status).toBe(200)
      expect((await ask(open, { uri: '/elsewhere' })).status).toBe(401)
    } finally {
      await open.handle.close()
    }
  })

  it('matches the decoded, normalised path, and ignores the query', async () => {
    const token = await idp.sign({ scope: 'orders:read' })
    expect((await ask(gateway, { uri: '/orders/a%20b?x=/admin/', token })).status).toBe(200)
    expect((await ask(gateway, { uri: '//public//x' })).status).toBe(200)
    // Rules see the decoded path: /publi%63/x is /public/x; an encoded slash is refused (the upstream may decode it).
    expect((await ask(gateway, { uri: '/publi%63/x' })).status).toBe(200)
    expect((await ask(gateway, { uri: '/admin%2Fx' })).status).toBe(400)
  })

  it('answers 400 for a forwarded URI or method that cannot be a request', async () => {
    for (const uri of ['/public/../admin/x', '/public/%2e%2e/admin', '/public/..;/admin', 'http://evil/x', 'orders', '/a%zz', '/a%00b']) {
      const res = await ask(gateway, { uri })
      expect(res.status, uri).toBe(400)
      expect(JSON.parse(res.body).code).toBe('ERR_REQUEST_INVALID')
      expect(res.headers.get('www-authenticate')).toBe(
        'Bearer realm="api", error="invalid_request", error_description="Malformed forwarded URI"',
      )
    }
    expect((await ask(gateway, { uri: `/public/${'a'.repeat(9000)}` })).status).toBe(400)
    expect((await ask(gateway, { method: 'GE T', uri: '/public/x' })).status).toBe(400)
    // Two X-Original-URI lines are folded by Node into one value with ", ": refused, not guessed.
    const raw = await getRaw(`${gateway.url}/verify`, ['X-Original-URI: /public/x', 'X-Original-URI: /admin/x'])
    expect(raw.status).toBe(400)
  })

  it('refuses a client X-Original-URI passed beside the gateway X-Forwarded-Uri, and reads Envoy-style /verify/<path>', async () => {
    // Caddy or Traefik pass the client's headers through: a client's own X-Original-URI must not win over theirs.
    const res = await ask(gateway, { uri: '/public/x', headers: { 'x-forwarded-uri': '/orders/1', 'x-forwarded-method': 'GET' } })
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body).code).toBe('ERR_REQUEST_INVALID')
    const same = await ask(gateway, { uri: '/public/x', headers: { 'x-forwarded-uri': '/public/x' } })
    expect(same.status).toBe(200)
    const envoy = await fetch(`${gateway.url}/verify/public/logo.png`)
    expect(envoy.status).toBe(200)
    expect((await fetch(`${gateway.url}/verify/orders/1`)).status).toBe(401)
  })

  it('ignores forwarded headers from a peer outside trustedProxies', async () => {
    const strict = await startGateway(configFor(idp, { trustedProxies: ['10.0.0.0/8', 'fd00::/8'] }))
    try {
      // Claims /public/x, but the peer (127.0.0.1) is not trusted: the request is /verify itself, which no rule opens.
      const res = await ask(strict, { uri: '/public/x' })
      expect(res.status).toBe(403)
      expect(JSON.parse(res.body).code).toBe('ERR_ROUTE_DENIED')
      // Nor can it pass a bad URI off as the request.
      expect((await ask(strict, { uri: '/a/../b' })).status).toBe(403)
    } finally {
      await strict.handle.close()
    }
  })

  it('leaves out a claim value that cannot be a header value, logs it, and still answers 200', async () => {
    const token = await idp.sign({ scope: 'orders:read', tid: 'acme\r\nX-Auth-Subject: admin', email: 'é@example.test' })
    const res = await ask(gateway, { uri: '/orders/1', token })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-auth-subject')).toBe('user-123')
    expect(res.headers.get('x-auth-tenant')).toBe('')
    expect(res.headers.get('x-auth-email')).toBe('')
    const omitted = gateway.logs.filter((l) => l.msg === 'identity_header_omitted')
    expect(omitted).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ header: 'X-Auth-Tenant', claim: 'tid' }),
        expect.objectContaining({ header: 'X-Auth-Email', claim: 'email' }),
      ]),
    )
    // A subject with a line break, and scopes with a control character: left out too.
    const bad = await idp.sign({ sub: 'a\nb', scope: 'orders:read x\u0007y' })
    const res2 = await ask(gateway, { uri: '/orders/1', token: bad })
    expect(res2.status).toBe(200)
    expect(res2.headers.get('x-auth-subject')).toBe('')
    expect(res2.headers.get('x-auth-scopes')).toBe('')
  })

  it('logs one JSON line per refusal, with code and route, never the token', async () => {
    const token = await idp.sign({ scope: 'nothing' })
    const before = gateway.logs.length
    await ask(gateway, { uri: '/orders/9', token })
    const lines = gateway.logs.slice(before).filter((l) => l.msg === 'refused')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      status: 403,
      code: 'ERR_JWT_INSUFFICIENT_SCOPE',
      route: 'GET /orders/*',
      issuer: idp.issuer,
      path: '/orders/9',
    })
    expect(JSON.stringify(gateway.logs)).not.toContain(token)
  })

  it('survives huge headers: 431 from the HTTP layer, then answers as before', async () => {
    const huge = await getRaw(`${gateway.url}/verify`, [`X-Filler: ${'a'.repeat(100_000)}`])
    expect(huge.status).toBe(431)
    const tooLong = 'a'.repeat(9000)
    const res = await ask(gateway, { uri: '/orders/1', token: tooLong })
    expect(res.status).toBe(401)
    expect(JSON.parse(res.body).code).toBe('ERR_JWT_TOO_LARGE')
    expect((await ask(gateway, { uri: '/public/x' })).status).toBe(200)
  })

  it('answers 503 (no challenge) when the IdP is down and no key is held', async () => {
    const down = await createTestIssuer({ algorithms: ['ES256'], audience: AUDIENCE })
    const token = await down.sign({ scope: 'orders:read' })
    await down.close()
    const g = await startGateway(configFor(down, { guard: { issuer: down.issuer, audience: AUDIENCE, jwksUri: down.jwksUri } }))
    try {
      const res = await ask(g, { uri: '/orders/1', token })
      expect(res.status).toBe(503)
      expect(res.headers.get('www-authenticate')).toBeNull()
      expect((await fetch(`${g.url}/readyz`)).status).toBe(503)
    } finally {
      await g.handle.close()
    }
  })

  it('checks DPoP proofs against the public origin and the forwarded URI', async () => {
    const g = await startGateway(
      configFor(idp, { publicOrigin: 'https://api.example.test', guard: { ...configFor(idp).guard, dpop: true } }),
    )
    try {
      const client = await clientKey()
      const token = await idp.sign({ scope: 'orders:read', cnf: { jkt: client.jkt } })
      const proof = (htu: string) => signProof(client, { htu, token })
      const send = async (htu: string) =>
        ask(g, {
          uri: '/orders/5?q=1',
          headers: { authorization: `DPoP ${token}`, dpop: await proof(htu), 'x-forwarded-proto': 'https' },
        })
      const ok = await send('https://api.example.test/orders/5')
      expect(ok.status).toBe(200)
      expect(ok.headers.get('x-auth-subject')).toBe('user-123')
      const wrong = await send(`${g.url}/verify`)
      expect(wrong.status).toBe(401)
      expect(wrong.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/)
    } finally {
      await g.handle.close()
    }
  })
})

describe('jwtguard serve: operations', () => {
  it('serves /healthz, /readyz and Prometheus /metrics', async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200)
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200)
    const res = await fetch(`${gateway.url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    expect(text).toMatch(/^jwtguard_decisions_total\{outcome="allow",code="none"\} [1-9]/m)
    expect(text).toMatch(/^jwtguard_decisions_total\{outcome="deny",code="ERR_JWT_INSUFFICIENT_SCOPE"\} [1-9]/m)
    const count = Number(/^jwtguard_decision_duration_seconds_count (\d+)/m.exec(text)?.[1])
    expect(count).toBeGreaterThan(0)
    expect(text).toContain(`jwtguard_decision_duration_seconds_bucket{le="+Inf"} ${count}`)
    expect(text).toMatch(/^# TYPE jwtguard_decision_duration_seconds histogram$/m)
    expect(text).toMatch(/^jwtguard_decision_duration_seconds_bucket\{le="0.0001"\} \d+$/m)
    expect(text).toMatch(new RegExp(`^jwtguard_jwks_fetches_total\\{source="${idp.jwksUri}"\\} [1-9]`, 'm'))
    expect(text).toMatch(/^jwtguard_token_cache_hit_ratio 0\.\d+/m)
    expect((await fetch(`${gateway.url}/nothing`)).status).toBe(404)
  })

  it('reloads: a good config is swapped in, a bad one keeps the old and is logged', async () => {
    const g = await startGateway(configFor(idp))
    try {
      const token = await idp.sign({ scope: 'profile' })
      expect((await ask(g, { uri: '/reports/1', token })).status).toBe(403)
      g.config = configFor(idp, { routes: [{ match: 'GET /reports/*', scopes: ['profile'] }] })
      expect(await g.handle.reload()).toBe(true)
      expect((await ask(g, { uri: '/reports/1', token })).status).toBe(200)
      g.config = configFor(idp, { routes: [{ match: 'GET reports', scopes: ['profile'] }] })
      expect(await g.handle.reload()).toBe(false)
      expect(g.logs.find((l) => l.msg === 'reload_failed')).toMatchObject({
        problems: [expect.stringContaining('routes[0] ("GET reports"): field "match"')],
      })
      expect((await ask(g, { uri: '/reports/1', token })).status).toBe(200)
    } finally {
      await g.handle.close()
    }
  })
})
