import { afterAll, beforeAll, expect, it } from 'vitest'
import { createGuard } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

/** More tenants than any fixed bound on held sets would keep (the old one was 1,000), few enough for a loaded machine. */
const TENANTS = 2_500
const AUDIENCE = 'https://api.example.test'

let server: TestIssuer
beforeAll(async () => {
  server = await createTestIssuer({ algorithms: ['ES256'], audience: AUDIENCE, tenants: true })
})
afterAll(() => server.close())

it(`holds the key set of each of ${TENANTS.toLocaleString('en')} discovered issuers for the guard's life`, async () => {
  // One server answers discovery for every tenant path (issuer = origin + path) with the same JWKS.
  const issuers = Array.from({ length: TENANTS }, (_, i) => `${server.origin}/t/${i}`)
  // Every token is distinct anyway; without the verified-token cache each verification surely consults the key set.
  // A fetch slowed by a loaded machine (tests share it) is no failure: the deadline is generous.
  const guard = createGuard({ issuer: issuers, audience: AUDIENCE, cache: false, jwksCache: { timeoutDuration: 60_000 } })
  const verifyTenant = async (i: number): Promise<void> => {
    const auth = await guard.verify(await server.sign({ iss: issuers[i] }))
    expect(auth.payload.iss).toBe(issuers[i])
  }

  let next = 0
  const worker = async (): Promise<void> => {
    while (next < TENANTS) await verifyTenant(next++)
  }
  await Promise.all(Array.from({ length: 50 }, worker))
  // Each tenant cost one discovery and one JWKS fetch; nothing else was asked.
  expect(server.requests).toEqual({ openid: TENANTS, discovery: TENANTS, jwks: TENANTS, jwksFaulted: 0, oauth: 0, redirected: 0, other: 0 })

  // The configuration bounds the sets held: no tenant's set was evicted by the others.
  for (let i = 0; i < TENANTS; i++) await verifyTenant(i)
  expect(server.requests).toEqual({ openid: TENANTS, discovery: TENANTS, jwks: TENANTS, jwksFaulted: 0, oauth: 0, redirected: 0, other: 0 })
}, 180_000)
