// The test issuer composes its URLs the way users write paths, and an issuer identifier that ends
// in "/" is discovered and compared exactly; a discovery document naming another issuer is
// explained with both values (never in the HTTP answer).
import { afterEach, describe, expect, it } from 'vitest'
import { createGuard, GuardError } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS } from '../conformance/apps.js'

const open: TestIssuer[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((i) => i.close()))
})
async function issuerWith(options: Parameters<typeof createTestIssuer>[0]): Promise<TestIssuer> {
  const issuer = await createTestIssuer(options)
  open.push(issuer)
  return issuer
}

describe('createTestIssuer({ path })', () => {
  it.each(['tenant', '/tenant', 'tenant/', '/tenant/', '//tenant//'])(
    'path %j gives http://127.0.0.1:PORT/tenant, discoverable',
    async (path) => {
      const issuer = await issuerWith({ path })
      expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tenant$/)
      expect(issuer.jwksUri).toBe(`${issuer.issuer}/jwks`)
      const guard = createGuard(issuer.guardOptions())
      await expect(guard.verify(await issuer.sign({ sub: 'alice' }))).resolves.toMatchObject({ payload: { sub: 'alice' } })
      expect(issuer.requests.discovery).toBe(1)
    },
  )

  it.each(['', '/'])('path %j is the bare origin', async (path) => {
    const issuer = await issuerWith({ path })
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })
})

describe('an issuer identifier ending in "/"', () => {
  it.each([undefined, 'tenant'])('(path %j) is discovered and compared exactly', async (path) => {
    const issuer = await issuerWith({ path, trailingSlash: true })
    expect(issuer.issuer.endsWith('/')).toBe(true)
    const guard = createGuard(issuer.guardOptions())
    await expect(guard.verify(await issuer.sign({ sub: 'bob' }))).resolves.toMatchObject({ payload: { iss: issuer.issuer } })
    // No trailing-slash leniency in the token's iss either.
    const without = await issuer.sign({ iss: issuer.issuer.slice(0, -1) })
    await expect(guard.verify(without)).rejects.toMatchObject({ code: 'ERR_JWT_ISSUER_INVALID' })
  })

  it('configured without the slash: the discovery mismatch names both values in cause and explain, not in the answer', async () => {
    const issuer = await issuerWith({ path: 'tenant', trailingSlash: true })
    const configured = issuer.issuer.slice(0, -1)
    const guard = createGuard({ issuer: configured, audience: issuer.audience })
    const token = await issuer.sign({ iss: configured })
    const err = await guard.verify(token).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GuardError)
    expect(err).toMatchObject({ code: 'ERR_DISCOVERY_FAILED', status: 503, context: { reason: 'issuer_mismatch' } })
    const cause = String((err as GuardError).cause)
    expect(cause).toContain(`"${issuer.issuer}"`)
    expect(cause).toContain(`"${configured}"`)
    expect((err as GuardError).message).not.toContain('127.0.0.1')
    const explained = await guard.explain(token)
    const failed = explained.steps.find((s) => s.ok === false)
    expect(failed?.detail).toContain(JSON.stringify(issuer.issuer))
    expect(failed?.detail).toContain(JSON.stringify(configured))
  })

  it.each(FRAMEWORKS)('over HTTP on $name the mismatch is a 503 with no URL in the body', async (framework) => {
    const issuer = await issuerWith({ path: 'tenant', trailingSlash: true })
    const configured = issuer.issuer.slice(0, -1)
    const app = await framework.start({
      guard: { issuer: configured, audience: issuer.audience },
      routes: [{ path: '/me', reply: () => ({}) }],
    })
    try {
      const res = await fetch(`${app.url}/me`, { headers: { authorization: `Bearer ${await issuer.sign({ iss: configured })}` } })
      expect(res.status).toBe(503)
      expect(await res.text()).not.toContain('127.0.0.1')
    } finally {
      await app.close()
    }
  })
})
