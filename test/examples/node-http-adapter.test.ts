// The example adapter for plain node:http (examples/node-http-adapter.ts) is the proof that
// `jwtguard/adapter` is enough to write an adapter: real HTTP, the same answers as the shipped ones.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { requireScopes, withGuard } from '../../examples/node-http-adapter.js'

let issuer: TestIssuer
let server: Server
let base: string

beforeAll(async () => {
  issuer = await createTestIssuer()
  const orders = requireScopes('orders:read', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ sub: req.auth?.payload.sub, scopes: req.auth?.scopes }))
  })
  server = createServer(withGuard({ ...issuer.guardOptions(), realm: 'node' }, orders))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await issuer.close()
})

const get = (headers: Record<string, string> = {}) => fetch(`${base}/orders`, { headers })

describe('an adapter for node:http built on jwtguard/adapter', () => {
  it('answers 401 with a bare challenge when there is no token', async () => {
    const res = await get()
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="node"')
  })

  it('answers 200 with the verified claims for a valid token with the scope', async () => {
    const res = await get({ authorization: `Bearer ${await issuer.sign({ sub: 'alice', scope: 'orders:read' })}` })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ sub: 'alice', scopes: ['orders:read'] })
  })

  it('answers 403 insufficient_scope when the scope is missing', async () => {
    const res = await get({ authorization: `Bearer ${await issuer.sign({ sub: 'bob', scope: 'profile' })}` })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="node", error="insufficient_scope"/)
  })

  it('answers 401 invalid_token for an expired token, and 400 for a malformed Authorization header', async () => {
    const expired = await issuer.sign({ exp: Math.floor(Date.now() / 1000) - 3600 })
    const res = await get({ authorization: `Bearer ${expired}` })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/)
    expect(((await res.json()) as { code: string }).code).toBe('ERR_JWT_EXPIRED')
    const bad = await get({ authorization: 'Bearer a b' })
    expect(bad.status).toBe(400)
  })
})
