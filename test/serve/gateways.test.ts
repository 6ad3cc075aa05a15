// nginx (auth_request) and Caddy (forward_auth) in front of an echoing upstream, with jwtguard serve as the
// decision service and a real JWKS server as the IdP; the gateway configs are the blocks of docs/gateway.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { gatewayBinary, rawGet, startCaddy, startNginx, startUpstream, type Echo, type GatewayProcess } from './gateways.js'
import { startGateway, type Gateway } from './helpers.js'

const AUDIENCE = 'https://api.example.test'
let idp: TestIssuer
/** An IdP that is down: stopped before the gateway ever fetched its keys. */
let downIdp: TestIssuer
let downToken: string
let upstream: Awaited<ReturnType<typeof startUpstream>>
let decision: Gateway

beforeAll(async () => {
  idp = await createTestIssuer({ algorithms: ['ES256'], audience: AUDIENCE })
  downIdp = await createTestIssuer({ algorithms: ['ES256'], audience: AUDIENCE })
  downToken = await downIdp.sign({ scope: 'orders:read' })
  await downIdp.close()
  upstream = await startUpstream()
  decision = await startGateway({
    guard: {
      issuer: [
        { issuer: idp.issuer, jwksUri: idp.jwksUri },
        { issuer: downIdp.issuer, jwksUri: downIdp.jwksUri },
      ],
      audience: AUDIENCE,
    },
    routes: [
      { match: '* /public/*', auth: false },
      { match: 'GET /orders/*', scopes: ['orders:read'] },
    ],
    default: 'deny',
    claimHeaders: { 'X-Auth-Tenant': 'tid' },
  })
})
afterAll(async () => {
  await decision?.handle.close()
  await upstream?.close()
  await idp?.close()
})

const GATEWAYS = [
  { name: 'nginx', start: startNginx },
  { name: 'caddy', start: startCaddy },
] as const

describe.each(GATEWAYS)('$name in front of jwtguard serve', ({ name, start }) => {
  const binary = gatewayBinary(name)
  let gateway: GatewayProcess
  beforeAll(async () => {
    if (binary) gateway = await start(binary, { jwtguard: decision.handle.port, upstream: upstream.port })
  })
  afterAll(async () => {
    await gateway?.stop()
  })

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${gateway.port}${path}`, { headers, signal: AbortSignal.timeout(15_000) })
    const body = await res.text()
    return { status: res.status, headers: res.headers, body, echo: res.status === 200 ? (JSON.parse(body) as Echo) : undefined }
  }

  it.runIf(binary)('passes a valid token with the identity headers, overwriting those the client sent', async () => {
    const token = await idp.sign({ scope: 'orders:read profile', tid: 'acme' })
    const res = await get('/orders/42?x=1', { authorization: `Bearer ${token}`, 'x-auth-subject': 'admin', 'x-auth-roles': 'root' })
    expect(res.status, gateway.output()).toBe(200)
    expect(res.echo!.url).toBe('/orders/42?x=1')
    expect(res.echo!.headers['x-auth-subject']).toBe('user-123')
    expect(res.echo!.headers['x-auth-scopes']).toBe('orders:read profile')
    expect(res.echo!.headers['x-auth-issuer']).toBe(idp.issuer)
    expect(res.echo!.headers['x-auth-tenant']).toBe('acme')
    // The token has no roles: jwtguard sends an empty value, and the client's "root" is gone (nginx sends no header).
    expect(res.echo!.headers['x-auth-roles'] ?? '').toBe('')
  })

  it.runIf(binary)('never lets a client-sent identity header reach the upstream', async () => {
    const forged = { 'x-auth-subject': 'admin', 'x-auth-tenant': 'evil', 'x-auth-issuer': 'https://evil.example' }
    const open = await get('/public/logo.png', forged)
    expect(open.status, gateway.output()).toBe(200)
    for (const header of Object.keys(forged)) expect(open.echo!.headers[header] ?? '', header).toBe('')
    // A tenant claim that cannot be a header value (a line break): left out, and the client's one does not stand in.
    const token = await idp.sign({ scope: 'orders:read', tid: 'acme\r\nX-Auth-Subject: admin' })
    const res = await get('/orders/1', { authorization: `Bearer ${token}`, ...forged })
    expect(res.status).toBe(200)
    expect(res.echo!.headers['x-auth-subject']).toBe('user-123')
    expect(res.echo!.headers['x-auth-tenant'] ?? '').toBe('')
  })

  it.runIf(binary)('answers 401 and 403 at the client with their challenges', async () => {
    const missing = await get('/orders/1')
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="api"')
    const bad = await get('/orders/1', { authorization: 'Bearer abc.def.ghi' })
    expect(bad.status).toBe(401)
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="invalid_token", error_description="/)
    const token = await idp.sign({ scope: 'profile' })
    const forbidden = await get('/orders/1', { authorization: `Bearer ${token}` })
    expect(forbidden.status).toBe(403)
    expect(forbidden.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope", scope="orders:read"',
    )
    const denied = await get('/elsewhere', { authorization: `Bearer ${token}` })
    expect(denied.status).toBe(403)
    expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
  })

  it.runIf(binary)('passes 400 through with its challenge', async () => {
    const res = await get('/orders/1', { authorization: 'Bearer a b' })
    expect(res.status).toBe(400)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="invalid_request", error_description="Malformed Authorization header"',
    )
    // A dot segment the gateway forwards raw: refused, never matched against /public/*.
    expect(await rawGet(gateway.port, '/public/../orders/1')).toBe(400)
  })

  it.runIf(binary)('answers 503 when the IdP is down and no key is held', async () => {
    const res = await get('/orders/1', { authorization: `Bearer ${downToken}` })
    expect(res.status).toBe(503)
    expect(res.headers.get('www-authenticate')).toBeNull()
  })
})
