// oidc-provider's RFC 9068 access tokens, plain and encrypted for the API (RSA-OAEP-256 + A256GCM, no kid),
// through real HTTP on all six framework versions, with keys found by discovery alone.
import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FRAMEWORKS, type Route, type Running } from '../conformance/apps.js'
import { CLIENT_ID, startProvider, type RunningProvider } from './provider.js'

const encryption = generateKeyPairSync('rsa', { modulusLength: 2048 })
let plain: RunningProvider
let encrypting: RunningProvider

beforeAll(async () => {
  plain = await startProvider()
  // No kid: the guard must try its decryption keys, as oidc-provider sends none by default.
  encrypting = await startProvider({ resource: 'https://sealed.example.test', encrypt: { publicJwk: encryption.publicKey } })
})
afterAll(async () => {
  await plain?.close()
  await encrypting?.close()
})

const routes: Route[] = [
  {
    path: '/orders',
    check: (c) => c.requireScopes('orders:read'),
    reply: (auth) => ({ client: auth?.payload.client_id, encrypted: auth?.encrypted }),
  },
  { path: '/admin', check: (c) => c.requireScopes('orders:admin'), reply: () => ({ admin: true }) },
]

const get = async (app: Running, path: string, token: string) => {
  const res = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() }
}

describe.each(FRAMEWORKS)('oidc-provider tokens on $name', (framework) => {
  let api: Running
  let sealedApi: Running
  beforeAll(async () => {
    api = await framework.start({ guard: { issuer: plain.issuer, audience: plain.resource, typ: 'at+jwt' }, routes })
    sealedApi = await framework.start({
      guard: {
        issuer: encrypting.issuer,
        audience: encrypting.resource,
        typ: 'at+jwt',
        decryption: { keys: [encryption.privateKey], required: true },
      },
      routes,
    })
  })
  afterAll(async () => {
    await api?.close()
    await sealedApi?.close()
  })

  it('a signed RFC 9068 token: 200, and 403 with scope= for a scope it lacks', async () => {
    const token = await plain.token({ scope: 'orders:read' })
    expect(await get(api, '/orders', token)).toMatchObject({ status: 200, body: JSON.stringify({ client: CLIENT_ID, encrypted: false }) })
    const denied = await get(api, '/admin', token)
    expect(denied.status).toBe(403)
    expect(denied.challenge).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope", scope="orders:admin"',
    )
  })

  it('an encrypted (nested) token: decrypted without a kid, the inner JWS verified, 200', async () => {
    const token = await encrypting.token({ scope: 'orders:read' })
    expect(token.split('.')).toHaveLength(5)
    expect(await get(sealedApi, '/orders', token)).toMatchObject({
      status: 200,
      body: JSON.stringify({ client: CLIENT_ID, encrypted: true }),
    })
  })

  it('a plain token where encryption is required: 401 invalid_token', async () => {
    const reply = await get(sealedApi, '/orders', await plain.token())
    expect(reply.status).toBe(401)
    expect(reply.challenge).toBe('Bearer realm="api", error="invalid_token", error_description="Encrypted token required"')
  })
})

describe.each(FRAMEWORKS)('a key rotation at the provider, on $name', (framework) => {
  let provider: RunningProvider
  let api: Running
  beforeAll(async () => {
    provider = await startProvider()
    api = await framework.start({
      guard: { issuer: provider.issuer, audience: provider.resource, jwksCache: { cooldownDuration: 0 } },
      routes,
    })
  })
  afterAll(async () => {
    await api?.close()
    await provider?.close()
  })

  it('tokens signed with the new key verify after one refetch; old tokens still verify while the old key is published', async () => {
    const before = await provider.token()
    expect((await get(api, '/orders', before)).status).toBe(200)
    await provider.rotate({ keepOld: true })
    const after = await provider.token()
    expect((await get(api, '/orders', after)).status).toBe(200)
    expect((await get(api, '/orders', before)).status).toBe(200)
  })
})
