import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createGuard, GuardError } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

// Issue 14, item 4: key-set bookkeeping (and so the unknown-`kid` cooldown) is held per configured
// issuer, however many there are, so forged tokens rotating over every issuer cannot buy one JWKS
// fetch each by evicting the others' state.
const ISSUERS = 10_000
const ROUNDS = 3
const WORKERS = 16
const AUDIENCE = 'https://api.example.test'
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

let server: TestIssuer
beforeAll(async () => {
  server = await createTestIssuer({ algorithms: ['ES256'], audience: AUDIENCE })
})
afterAll(() => server.close())

/** A token for `iss` naming a `kid` no JWKS holds, with a signature of the right length that verifies nothing. */
function forged(iss: string): string {
  const now = Math.floor(Date.now() / 1000)
  const header = b64({ alg: 'ES256', kid: randomUUID() })
  const payload = b64({ iss, aud: AUDIENCE, sub: 'mallory', iat: now, exp: now + 600 })
  return `${header}.${payload}.${randomBytes(64).toString('base64url')}`
}

it(`fetches each of ${ISSUERS.toLocaleString('en')} issuers' JWKS at most once per cooldown under forged-kid rotation`, async () => {
  const issuers = Array.from({ length: ISSUERS }, (_, i) => ({ issuer: `${server.origin}/t/${i}`, jwksUri: `${server.jwksUri}/${i}` }))
  const guard = createGuard({
    issuer: issuers,
    audience: AUDIENCE,
    algorithms: ['ES256'],
    // Every round runs well within one cooldown and one cache age; a fetch slowed by a loaded machine is no failure.
    jwksCache: { cooldownDuration: 10 * 60_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 60_000 },
  })
  const codes = new Map<string, number>()
  for (let round = 0; round < ROUNDS; round++) {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < ISSUERS) {
        const token = forged(issuers[next++]!.issuer)
        const code = await guard.verify(token).then(
          () => 'accepted',
          (err: unknown) => (err instanceof GuardError ? `${err.code} ${err.status}` : String(err)),
        )
        codes.set(code, (codes.get(code) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: WORKERS }, worker))
  }
  expect(codes).toEqual(new Map([['ERR_JWKS_NO_MATCHING_KEY 401', ISSUERS * ROUNDS]]))
  // The first round fetched each issuer's JWKS once; the later rounds, within the cooldown, fetched nothing.
  expect(server.jwksRequestsByPath.size).toBe(ISSUERS)
  expect(Math.max(...server.jwksRequestsByPath.values())).toBe(1)
  expect(server.requests.jwks).toBe(ISSUERS)
}, 240_000)
