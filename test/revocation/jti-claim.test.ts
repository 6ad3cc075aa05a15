import { randomUUID } from 'node:crypto'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createGuard,
  memoryRevocationStore,
  presets,
  type GuardOptions,
  type RevocationContext,
  type RevocationStore,
} from '../../src/index.js'
import { redisRevocationStore } from '../../src/revocation/redis.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { entraDelegated } from '../authz/providers.js'
import { rejection } from '../helpers/shared.js'
import { redisServerAvailable, startRedis, type RedisServer } from '../helpers/redis.js'

// Issue 18 item 6: Entra ID access tokens carry their id in `uti` and have no `jti`; `jtiClaim`
// names the claim the revocation stores and their missing-jti policy read.

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['RS256'] })
})
afterAll(() => issuer?.close())

const now = (): number => Math.floor(Date.now() / 1000)
const guardWith = (options: Partial<GuardOptions>) =>
  createGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri, ...options })

/** A token shaped as Entra ID issues it (v2.0, delegated): `uti`, no `jti`; issuer and audience are the test issuer's. */
const entraToken = (uti: string = randomUUID()) => {
  const { iss: _iss, aud: _aud, ...claims } = entraDelegated
  return issuer.sign({ ...claims, uti, jti: undefined })
}

describe('jtiClaim', () => {
  it('presets.entra() reads the token id from uti', () => {
    expect(presets.entra().jtiClaim).toBe('uti')
  })

  it('an Entra token revoked by its uti through the memory store is refused', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ ...presets.entra(), revocation: store })
    const uti = randomUUID()
    const token = await entraToken(uti)
    await expect(guard.verify(token)).resolves.toMatchObject({ claims: { uti, sub: entraDelegated.sub } })
    await store.revoke(uti, now() + 3600)
    expect(await rejection(guard.verify(token))).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401 })
    await expect(guard.verify(await entraToken())).resolves.toMatchObject({ scopes: ['Orders.Read', 'Orders.Write'] })
  })

  it('reads only the named claim: a jti beside it neither revokes nor stands in for a missing one', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ jtiClaim: 'uti', revocation: store })
    const jti = randomUUID()
    const both = await issuer.sign({ uti: randomUUID(), jti })
    await store.revoke(jti, now() + 3600)
    await expect(guard.verify(both)).resolves.toMatchObject({ claims: { jti } })
    const onlyJti = await issuer.sign({ jti: randomUUID() })
    expect(await rejection(guard.verify(onlyJti))).toMatchObject({
      code: 'ERR_JWT_JTI_MISSING',
      status: 401,
      context: { claim: 'uti', reason: 'missing' },
    })
  })

  it('defaults to jti: without it an Entra token is refused by a store that needs a token id', async () => {
    const guard = guardWith({ revocation: memoryRevocationStore() })
    expect(await rejection(guard.verify(await entraToken()))).toMatchObject({
      code: 'ERR_JWT_JTI_MISSING',
      context: { claim: 'jti' },
    })
  })

  it('a custom store is told the claim as context.jtiClaim', async () => {
    const contexts: (RevocationContext | undefined)[] = []
    const store: RevocationStore = {
      async isRevoked(_auth, context) {
        contexts.push(context)
        return false
      },
    }
    await guardWith({ ...presets.entra(), revocation: store }).verify(await entraToken())
    expect(contexts).toEqual([expect.objectContaining({ jtiClaim: 'uti' })])
  })

  it.each([[''], [5], [null], [true], [['uti']], [{ name: 'uti' }]])('refuses %j at construction, naming jtiClaim', (value) => {
    expect(() => guardWith({ jtiClaim: value as unknown as string })).toThrow(
      new TypeError('jwtguard: option "jtiClaim" must be a non-empty claim name'),
    )
  })
})

describe.skipIf(!redisServerAvailable())('jtiClaim with the Redis store', () => {
  let redis: RedisServer
  let client: ReturnType<typeof createClient>
  beforeAll(async () => {
    redis = await startRedis()
    client = createClient({ url: redis.url })
    client.on('error', () => {})
    await client.connect()
  })
  afterAll(async () => {
    client?.destroy()
    await redis?.stop()
  })

  it('an Entra token revoked by its uti is refused', async () => {
    const store = redisRevocationStore({ client, prefix: `uti-${randomUUID()}:` })
    const guard = guardWith({ ...presets.entra(), revocation: store })
    const uti = randomUUID()
    const token = await entraToken(uti)
    await expect(guard.verify(token)).resolves.toMatchObject({ claims: { uti } })
    await store.revoke(uti, now() + 3600)
    expect(await rejection(guard.verify(token))).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401 })
  })
})
