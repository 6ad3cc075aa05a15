import { authOf } from '../helpers/shared.js'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type AuthInfo, type Guard, type GuardEvent } from '../../src/index.js'
import { redisDpopReplayStore, redisRevocationStore, type RedisRevocationStore } from '../../src/revocation/redis.js'
import { keySlot } from '../../src/redis/slot.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { redisCli, startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js'
import { redisServerAvailable } from '../helpers/redis.js'
import { rejection } from '../helpers/shared.js'

type Cluster = ReturnType<typeof createCluster>
const PREFIX = 'cluster-test:'
const now = (): number => Math.floor(Date.now() / 1000)

async function connect(cluster: RedisCluster): Promise<Cluster> {
  const client = createCluster({ rootNodes: cluster.rootNodes, defaults: { socket: { reconnectStrategy: () => 50, connectTimeout: 500 } } })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** The port of the master that serves `slot` now, from CLUSTER NODES as a live node sees it. */
async function masterOf(cluster: RedisCluster, slot: number, alive: number): Promise<number> {
  const nodes = await redisCli(alive, 'cluster', 'nodes')
  for (const line of nodes.trim().split('\n')) {
    const [, address, flags, , , , , , ...ranges] = line.split(' ')
    if (!flags?.includes('master') || flags.includes('fail')) continue
    for (const range of ranges) {
      const [from, to = from] = range.split('-').map(Number)
      if (slot >= from! && slot <= to!) return Number(address!.split('@')[0]!.split(':')[1])
    }
  }
  throw new Error(`no live master for slot ${slot}`)
}

const auth = (jti: string): AuthInfo<unknown> => authOf({ jti, sub: 'user', iat: now() })
const answer = (s: RedisRevocationStore, jti: string): Promise<string> =>
  s.isRevoked(auth(jti)).then(
    (revoked) => (revoked ? 'revoked' : 'allowed'),
    (err: { code?: string }) => String(err.code),
  )
/** The replicated answer once the revoke has reached it (within maxLagMs; polled, bounded). */
async function held(s: RedisRevocationStore, jti: string): Promise<string> {
  let got = await answer(s, jti)
  for (let i = 0; i < 400 && got !== 'revoked'; i++) {
    await sleep(25)
    got = await answer(s, jti)
  }
  return got
}

describe.skipIf(!redisServerAvailable())('Redis Cluster (3 masters, a replica each)', () => {
  let cluster: RedisCluster
  let issuer: TestIssuer
  const clients: Cluster[] = []
  let store: RedisRevocationStore
  let replicated: RedisRevocationStore
  let guard: Guard
  const events: GuardEvent[] = []
  // On a client of its own that makes no call from before the kill until after the failover.
  let quiet: RedisRevocationStore

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 })
    issuer = await createTestIssuer({ algorithms: ['RS256'] })
    clients.push(await connect(cluster), await connect(cluster), await connect(cluster), await connect(cluster))
    quiet = redisRevocationStore({ client: clients[3]!, prefix: PREFIX, timeout: 1000 })
    // The writer waits for a replica (WAIT): on a loaded 2-core CI machine that took over 1 s once. The readers keep 1 s.
    store = redisRevocationStore({ client: clients[0]!, prefix: PREFIX, timeout: 5000 })
    replicated = redisRevocationStore({ client: clients[2]!, prefix: PREFIX, timeout: 1000, replicate: true })
    guard = createGuard({
      ...issuer.guardOptions(),
      jwksUri: issuer.jwksUri,
      revocation: redisRevocationStore({ client: clients[1]!, prefix: PREFIX, timeout: 1000 }),
      onEvent: (e) => events.push(e),
    })
  }, 120_000)

  afterAll(async () => {
    await replicated?.close()
    for (const client of clients) client.destroy()
    await issuer?.close()
    await cluster?.stop()
  })

  it('checks keys spread over every master (no CROSSSLOT): revoked jtis and subjects refused, others pass', async () => {
    const jtis = Array.from({ length: 12 }, () => randomUUID())
    expect(new Set(jtis.map((j) => keySlot(`${PREFIX}jti:${j}`))).size).toBeGreaterThan(1)
    for (const jti of jtis) await store.revoke(jti, now() + 600)
    for (const jti of jtis) {
      const err = await rejection(guard.authenticate({ headers: { authorization: `Bearer ${await issuer.sign({ jti })}` } }))
      expect(err.code).toBe('ERR_JWT_REVOKED')
    }
    await store.revokeSubject('zoe', now())
    const old = await issuer.sign({ sub: 'zoe', iat: now() - 60 })
    expect((await rejection(guard.authenticate({ headers: { authorization: `Bearer ${old}` } }))).code).toBe('ERR_JWT_REVOKED')
    const fresh = await issuer.sign({ sub: 'zoe', iat: now() + 1 })
    expect((await guard.authenticate({ headers: { authorization: `Bearer ${fresh}` } }))?.payload.sub).toBe('zoe')
    expect(events.filter((e) => e.type === 'revocation_store_reset')).toEqual([])
    for (const jti of jtis) expect(await held(replicated, jti)).toBe('revoked')
    expect(await replicated.isRevoked(auth(randomUUID()))).toBe(false)
  })

  it('a master killed during traffic: revoked tokens and replayed proofs are never accepted during or after the switch', async () => {
    const revoked = Array.from({ length: 6 }, () => randomUUID())
    for (const jti of revoked) await store.revoke(jti, now() + 600)
    const dpop = redisDpopReplayStore({ client: clients[0]!, prefix: PREFIX, timeout: 1000 })
    const proofs = Array.from({ length: 6 }, () => randomUUID())
    for (const proof of proofs) expect(await dpop.remember(proof, 120)).toBe(true)

    for (const jti of revoked) expect(await held(replicated, jti)).toBe('revoked')
    for (const jti of revoked) expect(await quiet.isRevoked(auth(jti))).toBe(true)
    const victim = await masterOf(cluster, keySlot(`${PREFIX}jti:${revoked[0]}`), cluster.nodes[0]!.port)
    const other = cluster.nodes.find((n) => n.port !== victim)!
    await cluster.nodes.find((n) => n.port === victim)!.stop()

    const answers = { revoked: 0, unavailable: 0, accepted: 0 }
    const deadline = Date.now() + 60_000
    let settled = 0
    // Until every check is answered "revoked" and every replay refused 5 rounds in a row (the failover is
    // over), bounded in time; in between, 503 is the only other answer allowed.
    while (settled < 5 && Date.now() < deadline) {
      let round = true
      for (const jti of revoked) {
        const token = await issuer.sign({ jti })
        try {
          await guard.authenticate({ headers: { authorization: `Bearer ${token}` } })
          answers.accepted++
        } catch (err) {
          const code = (err as { code?: string }).code
          if (code === 'ERR_JWT_REVOKED') answers.revoked++
          else {
            expect(code).toBe('ERR_REVOCATION_UNAVAILABLE')
            answers.unavailable++
            round = false
          }
        }
      }
      for (const jti of revoked) {
        const got = await answer(replicated, jti)
        if (got !== 'revoked') {
          expect(got).toBe('ERR_REVOCATION_UNAVAILABLE')
          round = false
        }
      }
      for (const proof of proofs) {
        const fresh = await dpop.remember(proof, 120).catch((err: { code?: string }) => {
          expect(err.code).toBe('ERR_DPOP_REPLAY_UNAVAILABLE')
          round = false
          return false
        })
        expect(fresh).toBe(false)
      }
      settled = round ? settled + 1 : 0
      if (!round) await sleep(100)
    }
    expect(answers.accepted).toBe(0)
    expect(settled).toBe(5)
    // The replica that took over holds every revoke that returned before the kill (WAIT), and the markers.
    expect(await masterOf(cluster, keySlot(`${PREFIX}jti:${revoked[0]}`), other.port)).not.toBe(victim)
    expect(events.filter((e) => e.type === 'revocation_store_reset')).toEqual([])
    // New revocations work again after the switch.
    const later = randomUUID()
    await store.revoke(later, now() + 600)
    const err = await rejection(guard.authenticate({ headers: { authorization: `Bearer ${await issuer.sign({ jti: later })}` } }))
    expect(err.code).toBe('ERR_JWT_REVOKED')
    expect(await held(replicated, later)).toBe('revoked')
    // A client that made no call during the failover followed it all the same: its first check of a key the dead
    // master served is answered (it timed out once, before its map was re-read on the dead node's reconnects).
    expect(await quiet.isRevoked(auth(revoked[0]!))).toBe(true)
    await quiet.revoke(revoked[0]!, now() + 600)
  }, 90_000)

  it('FLUSHALL on every master: the replicated instance writes the deny-list back into each shard', async () => {
    const jtis = Array.from({ length: 12 }, () => randomUUID())
    for (const jti of jtis) await store.revoke(jti, now() + 600)
    for (const jti of jtis) expect(await held(replicated, jti)).toBe('revoked')
    const before = events.length
    for (const node of cluster.nodes) await redisCli(node.port, 'flushall').catch(() => '')
    // Every entry is back in Redis, and the direct instance refuses them again without an operator.
    for (const jti of jtis) {
      const token = await issuer.sign({ jti })
      let code: string | undefined
      for (let i = 0; i < 200 && code !== 'ERR_JWT_REVOKED'; i++) {
        code = await guard.authenticate({ headers: { authorization: `Bearer ${token}` } }).then(
          () => 'accepted',
          (e: { code?: string }) => e.code,
        )
        expect(code).not.toBe('accepted')
        if (code !== 'ERR_JWT_REVOKED') await sleep(25)
      }
      expect(code).toBe('ERR_JWT_REVOKED')
    }
    // The masters are flushed one after another: the direct instance may see (and report) more than one wipe.
    const resets = events.slice(before).filter((e) => e.type === 'revocation_store_reset')
    expect(resets.length).toBeGreaterThan(0)
    expect(resets.every((e) => e.type === 'revocation_store_reset' && !e.restored)).toBe(true)
  }, 60_000)
})

// The smallest cluster users run: three masters and no replica. Writes do not wait for a replica (there is none),
// and everything else works as on the cluster above.
describe.skipIf(!redisServerAvailable())('Redis Cluster (3 masters, no replica)', () => {
  let cluster: RedisCluster
  const clients: Cluster[] = []
  let store: RedisRevocationStore
  let replicated: RedisRevocationStore

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 0 })
    clients.push(await connect(cluster), await connect(cluster))
    store = redisRevocationStore({ client: clients[0]!, prefix: PREFIX, timeout: 1000 })
    replicated = redisRevocationStore({ client: clients[1]!, prefix: PREFIX, timeout: 1000, replicate: true })
  }, 120_000)

  afterAll(async () => {
    await replicated?.close()
    for (const client of clients) client.destroy()
    await cluster?.stop()
  })

  it('revokes across every master, direct and replicated, and remembers DPoP proofs once', async () => {
    const jtis = Array.from({ length: 12 }, () => randomUUID())
    expect(new Set(jtis.map((j) => keySlot(`${PREFIX}jti:${j}`))).size).toBeGreaterThan(1)
    for (const jti of jtis) await store.revoke(jti, now() + 600)
    for (const jti of jtis) expect(await store.isRevoked(auth(jti))).toBe(true)
    expect(await store.isRevoked(auth(randomUUID()))).toBe(false)
    await store.revokeSubject('zoe', now())
    expect(await store.isRevoked(authOf({ jti: randomUUID(), sub: 'zoe', iat: now() - 60 }))).toBe(true)
    for (const jti of jtis) expect(await held(replicated, jti)).toBe('revoked')
    const replay = redisDpopReplayStore({ client: clients[0]!, prefix: PREFIX, timeout: 1000 })
    const proof = randomUUID()
    expect(await replay.remember(proof, 60)).toBe(true)
    expect(await replay.remember(proof, 60)).toBe(false)
  })

  it('a storm of node errors re-reads the slot map at most every 250 ms, and checks still answer', async () => {
    const slotsCalls = async (): Promise<number> => {
      let calls = 0
      for (const node of cluster.nodes) {
        const stats = await redisCli(node.port, 'info', 'commandstats')
        calls += Number(/cmdstat_cluster\|slots:calls=(\d+)/.exec(stats)?.[1] ?? 0)
      }
      return calls
    }
    // Let any re-read from earlier cases finish first.
    await sleep(300)
    const before = await slotsCalls()
    const started = Date.now()
    // 5,000 errors as a node that keeps failing would report them, spread over about half a second.
    for (let burst = 0; burst < 10; burst++) {
      for (let i = 0; i < 500; i++) clients[0]!.emit('node-error', new Error('broken node'), { host: '127.0.0.1', port: 1 })
      await sleep(50)
    }
    const elapsed = Date.now() - started
    await sleep(300)
    const reads = (await slotsCalls()) - before
    expect(reads).toBeGreaterThan(0)
    expect(reads).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 1)
    expect(await store.isRevoked(auth(randomUUID()))).toBe(false)
  })

  it('stores on one client share one watch of its nodes (no listener per store)', () => {
    const before = clients[0]!.listenerCount('node-reconnecting')
    expect(before).toBe(1)
    for (let i = 0; i < 20; i++) {
      redisRevocationStore({ client: clients[0]!, prefix: PREFIX, timeout: 1000 })
      redisDpopReplayStore({ client: clients[0]!, prefix: PREFIX, timeout: 1000 })
    }
    expect(clients[0]!.listenerCount('node-reconnecting')).toBe(1)
    expect(clients[0]!.listenerCount('node-error')).toBe(1)
  })
})
