import { authOf } from '../helpers/shared.js'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuthInfo, GuardEvent } from '../../src/index.js'
import { redisRevocationStore, type RedisRevocationStore } from '../../src/revocation/redis.js'
import { redisServerAvailable, startRedis, type RedisServer } from '../helpers/redis.js'

type Client = ReturnType<typeof createClient>
const PREFIX = 'replica-test:'
const MAX_LAG = 500
const now = (): number => Math.floor(Date.now() / 1000)
const auth = (payload: Record<string, unknown>): AuthInfo<unknown> => authOf({ sub: 'user', iat: now(), ...payload })

async function connect(url: string): Promise<Client> {
  const client = createClient({ url, socket: { reconnectStrategy: () => 50 } })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** Polls `check` until it returns `want` or the deadline passes; returns the last answer. */
async function until<T>(check: () => Promise<T>, want: T, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  let last = await check()
  while (last !== want && Date.now() < deadline) {
    await sleep(20)
    last = await check()
  }
  return last
}

const answer = (store: RedisRevocationStore, a: AuthInfo<unknown>, events?: GuardEvent[]) =>
  store.isRevoked(a, { emit: (e) => events?.push(e) }).then(
    (revoked) => (revoked ? 'revoked' : 'allowed'),
    (err: { code?: string; context?: { reason?: string } }) => `${err.code}:${err.context?.reason}`,
  )

describe.skipIf(!redisServerAvailable())('redisRevocationStore({ replicate }): the deny-list in memory', () => {
  let redis: RedisServer
  const clients: Client[] = []
  const stores: RedisRevocationStore[] = []
  let admin: Client

  const replica = async (events?: GuardEvent[]): Promise<RedisRevocationStore> => {
    const client = await connect(redis.url)
    clients.push(client)
    const store = redisRevocationStore({ client, prefix: PREFIX, replicate: { maxLagMs: MAX_LAG } })
    stores.push(store)
    // The first full load: 503 until then.
    if (events) await until(() => answer(store, auth({ jti: 'warm-up' }), events), 'allowed')
    return store
  }

  beforeAll(async () => {
    redis = await startRedis()
    admin = await connect(redis.url)
  })

  afterAll(async () => {
    for (const store of stores) await store.close()
    for (const client of clients) client.destroy()
    admin?.destroy()
    await redis?.stop()
  })

  it('a fresh instance answers 503 until its first full load, then holds what was revoked before it started', async () => {
    const writer = redisRevocationStore({ client: admin, prefix: PREFIX })
    const jti = randomUUID()
    await writer.revoke(jti, now() + 600)
    await writer.revokeSubject('old-user', now())
    const store = await replica()
    expect(await answer(store, auth({ jti }))).toBe('ERR_REVOCATION_UNAVAILABLE:loading')
    expect(await until(() => answer(store, auth({ jti })), 'revoked')).toBe('revoked')
    expect(await answer(store, auth({ jti: randomUUID(), sub: 'old-user', iat: now() - 10 }))).toBe('revoked')
    expect(await answer(store, auth({ jti: randomUUID() }))).toBe('allowed')
  })

  it('a revoke on one instance reaches the others; checks make no Redis call', async () => {
    const [a, b, c] = [await replica(), await replica(), await replica()]
    for (const s of [a, b, c]) await until(() => answer(s, auth({ jti: 'x' })), 'allowed')
    const jti = randomUUID()
    await a.revoke(jti, now() + 600)
    for (const s of [a, b, c]) expect(await until(() => answer(s, auth({ jti })), 'revoked')).toBe('revoked')
    await b.revokeSubject('bob', now())
    for (const s of [a, b, c])
      expect(await until(() => answer(s, auth({ jti: randomUUID(), sub: 'bob', iat: now() - 5 })), 'revoked')).toBe('revoked')

    // Checks are answered from memory: 500 of them add no command to Redis beyond the background polls.
    await admin.configResetStat()
    for (let i = 0; i < 500; i++) await c.isRevoked(auth({ jti }))
    const stats = await admin.info('commandstats')
    const calls = [...stats.matchAll(/^cmdstat_(mget|exists):calls=(\d+)/gm)]
    expect(calls).toEqual([])
  })

  it('an instance cut off for longer than maxLagMs answers 503, then catches up on everything revoked meanwhile', async () => {
    const isolated = await replica([])
    const other = await replica([])
    const cutOff = clients.at(-2)!
    cutOff.destroy()
    const jti = randomUUID()
    await other.revoke(jti, now() + 600)
    expect(await until(() => answer(isolated, auth({ jti })), 'ERR_REVOCATION_UNAVAILABLE:stale')).toBe('ERR_REVOCATION_UNAVAILABLE:stale')
    // Back in contact: the revoke made while it was cut off is in force; nothing was accepted in between.
    await cutOff.connect()
    let seen = await answer(isolated, auth({ jti }))
    const deadline = Date.now() + 15_000
    while (seen !== 'revoked' && Date.now() < deadline) {
      expect(seen).toMatch(/^ERR_REVOCATION_UNAVAILABLE:/)
      await sleep(20)
      seen = await answer(isolated, auth({ jti }))
    }
    expect(seen).toBe('revoked')
  })

  /** Stops the replicated instances of earlier tests: their polls (and their restores) would mix in. */
  const closeAll = async (): Promise<void> => {
    for (const store of stores.splice(0)) await store.close()
  }

  it('FLUSHALL: a replicated instance writes its deny-list back, reports it, and the fleet resumes', async () => {
    await closeAll()
    const events: GuardEvent[] = []
    const store = await replica(events)
    const directEvents: GuardEvent[] = []
    const direct = redisRevocationStore({ client: admin, prefix: PREFIX })
    const jti = randomUUID()
    await store.revoke(jti, now() + 600)
    await store.revokeSubject('carol', now())
    expect(await until(() => answer(store, auth({ jti })), 'revoked')).toBe('revoked')
    expect(await answer(direct, auth({ jti }), directEvents)).toBe('revoked')

    await admin.flushAll()
    expect(await until(async () => (await admin.exists(`${PREFIX}jti:${jti}`)) === 1, true)).toBe(true)
    expect(events).toContainEqual({ type: 'revocation_store_reset', restored: true })
    expect(await admin.get(`${PREFIX}sub:carol`)).toMatch(/^\d+$/)
    expect(await admin.ttl(`${PREFIX}jti:${jti}`)).toBeGreaterThan(600)
    // The direct instance sees whole markers again (restored, acknowledged): it refuses, and passes others.
    expect(await until(() => answer(direct, auth({ jti }), directEvents), 'revoked')).toBe('revoked')
    expect(await answer(direct, auth({ jti: randomUUID() }), directEvents)).toBe('allowed')
    expect(await answer(store, auth({ jti }))).toBe('revoked')
  })

  it('entries leave with their tokens; close() stops the polling', async () => {
    await closeAll()
    const store = await replica([])
    const strict = redisRevocationStore({ client: admin, prefix: PREFIX, leeway: 0 })
    const jti = randomUUID()
    await strict.revoke(jti, now() + 2)
    expect(await until(() => answer(store, auth({ jti })), 'revoked')).toBe('revoked')
    expect(await until(() => answer(store, auth({ jti })), 'allowed', 10_000)).toBe('allowed')

    await store.close()
    await sleep(200)
    await admin.configResetStat()
    await sleep(300)
    expect(await admin.info('commandstats')).not.toMatch(/^cmdstat_xread:/m)
  })
})
