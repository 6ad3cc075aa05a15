import { afterAll, beforeAll, expect, it } from 'vitest'
import { createGuard } from '../../src/index.js'
import { AUDIENCE, startJwksServer, type JwksServer } from './jwks-server.js'
import { MAX_REMOTE_SETS } from '../../src/keys/sources.js'

const TENANTS = 10_000
/** The bound of the key-set LRU. */
const LRU_MAX = MAX_REMOTE_SETS
/** The last tenants are verified one by one, so that the LRU's recency order is known exactly. */
const SEQUENTIAL = 2 * LRU_MAX

let server: JwksServer
beforeAll(async () => {
  server = await startJwksServer()
})
afterAll(() => server.close())

it(`holds at most ${LRU_MAX} key sets through ${TENANTS.toLocaleString('en')} issuers of churn`, async () => {
  // One server answers discovery for every tenant path (issuer = origin + path) with the same JWKS.
  const issuers = Array.from({ length: TENANTS }, (_, i) => `${server.origin}/t/${i}`)
  // Every token is distinct anyway; without the verified-token cache each verification surely consults the key set.
  const guard = createGuard({ issuer: issuers, audience: AUDIENCE, cache: false })
  const key = server.keys[0]!
  const verifyTenant = async (i: number): Promise<void> => {
    const auth = await guard.verify(await server.sign(key, { iss: issuers[i] }))
    expect(auth.payload.iss).toBe(issuers[i])
  }
  const fetches = (): number => server.requests.openid + server.requests.jwks

  let next = 0
  const worker = async (): Promise<void> => {
    while (next < TENANTS - SEQUENTIAL) await verifyTenant(next++)
  }
  await Promise.all(Array.from({ length: 50 }, worker))
  for (let i = TENANTS - SEQUENTIAL; i < TENANTS; i++) await verifyTenant(i)
  // Each tenant cost one discovery and one JWKS fetch; nothing else was asked.
  expect(server.requests).toEqual({ openid: TENANTS, jwks: TENANTS, oauth: 0, moved: 0, other: 0 })

  // Walk back from the most recent tenant: a held set verifies with no fetch (and evicts nothing);
  // the first tenant that needs a fetch marks how many sets were held.
  let held = 0
  for (let i = TENANTS - 1; i >= TENANTS - SEQUENTIAL; i--) {
    const before = fetches()
    await verifyTenant(i)
    if (fetches() > before) {
      expect(fetches() - before).toBe(2)
      break
    }
    held++
  }
  expect(held).toBe(LRU_MAX)
}, 60_000)
