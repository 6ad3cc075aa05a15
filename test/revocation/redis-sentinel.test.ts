import { authOf } from '../helpers/shared.js'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSentinel } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuthInfo } from '../../src/index.js'
import { redisDpopReplayStore, redisRevocationStore, type RedisRevocationStore } from '../../src/revocation/redis.js'
import { redisCli } from '../helpers/redis-cluster.js'
import { redisServerAvailable } from '../helpers/redis.js'
import { startRedisSentinelSet, type RedisSentinelSet } from '../helpers/redis-sentinel.js'

type Sentinel = ReturnType<typeof createSentinel>
const PREFIX = 'sentinel-test:'
const now = (): number => Math.floor(Date.now() / 1000)
const auth = (jti: string): AuthInfo<unknown> => authOf({ jti, sub: 'user', iat: now() })
const answer = (store: RedisRevocationStore, jti: string) =>
  store.isRevoked(auth(jti)).then(
    (revoked) => (revoked ? 'revoked' : 'allowed'),
    (err: { code?: string }) => String(err.code),
  )

async function connect(set: RedisSentinelSet): Promise<Sentinel> {
  const client = createSentinel({
    name: set.name,
    sentinelRootNodes: set.sentinelRootNodes,
    nodeClientOptions: { socket: { reconnectStrategy: () => 50, connectTimeout: 500 } },
    sentinelClientOptions: { socket: { reconnectStrategy: () => 50, connectTimeout: 500 } },
  })
  client.on('error', () => {})
  await client.connect()
  return client
}

describe.skipIf(!redisServerAvailable())('Redis Sentinel (a master, a replica, three sentinels)', () => {
  let set: RedisSentinelSet
  const clients: Sentinel[] = []
  const stores: RedisRevocationStore[] = []

  beforeAll(async () => {
    set = await startRedisSentinelSet()
    clients.push(await connect(set), await connect(set))
  }, 90_000)

  afterAll(async () => {
    for (const store of stores) await store.close()
    for (const client of clients) await client.destroy().catch(() => {})
    await set?.stop()
  })

  it('revoke resolves once the replica holds the entry (WAIT); direct and replicated checks refuse it', async () => {
    const direct = redisRevocationStore({ client: clients[0]!, prefix: PREFIX, timeout: 1000 })
    const replicated = redisRevocationStore({ client: clients[1]!, prefix: PREFIX, timeout: 1000, replicate: true })
    stores.push(direct, replicated)
    const jti = randomUUID()
    await direct.revoke(jti, now() + 600)
    expect(await redisCli(set.replica.port, 'exists', `${PREFIX}jti:${jti}`)).toBe('1\n')
    expect(await answer(direct, jti)).toBe('revoked')
    for (let i = 0; i < 200 && (await answer(replicated, jti)) !== 'revoked'; i++) await sleep(25)
    expect(await answer(replicated, jti)).toBe('revoked')
    expect(await answer(direct, randomUUID())).toBe('allowed')
  })

  it('the master killed: no revoked token and no replayed proof accepted, during or after the failover', async () => {
    const [direct, replicated] = stores as [RedisRevocationStore, RedisRevocationStore]
    const dpop = redisDpopReplayStore({ client: clients[0]!, prefix: PREFIX, timeout: 1000 })
    const revoked = Array.from({ length: 5 }, () => randomUUID())
    for (const jti of revoked) await direct.revoke(jti, now() + 600)
    const proofs = Array.from({ length: 5 }, () => randomUUID())
    for (const proof of proofs) expect(await dpop.remember(proof, 120)).toBe(true)
    for (let i = 0; i < 200 && (await answer(replicated, revoked.at(-1)!)) !== 'revoked'; i++) await sleep(25)

    const oldMaster = set.master.port
    await set.master.stop()
    const seen = new Set<string>()
    const deadline = Date.now() + 60_000
    let settled = 0
    while (settled < 5 && Date.now() < deadline) {
      let round = true
      for (const jti of revoked)
        for (const store of [direct, replicated]) {
          const got = await answer(store, jti)
          seen.add(got)
          if (got !== 'revoked') round = false
        }
      for (const proof of proofs) {
        const got = await dpop.remember(proof, 120).then(
          (fresh) => (fresh ? 'accepted' : 'replay'),
          (err: { code?: string }) => String(err.code),
        )
        seen.add(got)
        if (got !== 'replay') round = false
      }
      settled = round ? settled + 1 : 0
      if (!round) await sleep(100)
    }
    expect([...seen].sort()).toEqual(expect.arrayContaining(['replay', 'revoked']))
    expect(
      [...seen].filter((s) => !['revoked', 'replay', 'ERR_REVOCATION_UNAVAILABLE', 'ERR_DPOP_REPLAY_UNAVAILABLE'].includes(s)),
    ).toEqual([])
    expect(settled).toBe(5)
    expect(await set.masterPort()).not.toBe(oldMaster)
    // After the switch, new revocations reach both kinds of instance.
    const later = randomUUID()
    await direct.revoke(later, now() + 600)
    expect(await answer(direct, later)).toBe('revoked')
    for (let i = 0; i < 200 && (await answer(replicated, later)) !== 'revoked'; i++) await sleep(25)
    expect(await answer(replicated, later)).toBe('revoked')
  }, 90_000)
})
