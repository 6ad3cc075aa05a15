import { randomUUID } from 'node:crypto'
import { createClient } from 'redis'
import { redisRevocationStore } from 'jwtguard/redis'
import { startRedis } from '../test/helpers/redis.js'

/**
 * Memory of a replicated Redis revocation store (`replicate: true`) holding `count` revoked `jti`s, in a fresh
 * process started with --expose-gc by memory.ts: a real redis-server on a free loopback port is filled in the
 * store's own key format (`jwtguard:jti:<jti>`, value and expiry the token's `exp`), then an instance's first full
 * load is timed and its heap growth measured (each after a full GC). Reports over IPC.
 */

export interface ReplicaRunInput {
  count: number
}

export interface ReplicaRunOutput {
  count: number
  heapGrowth: number
  rssGrowth: number
  /** Seconds the first full load took (SCAN of every key). */
  loadSeconds: number
}

const { count } = JSON.parse(process.argv[2]!) as ReplicaRunInput
const gc = (globalThis as { gc?: () => void }).gc
if (!gc || !process.send) throw new Error('memory-replica-run.ts is started by memory.ts (with --expose-gc and IPC)')

const redis = await startRedis()
const client = await createClient({ url: redis.url }).connect()
try {
  const exp = String(Math.floor(Date.now() / 1000) + 3600)
  const last = randomUUID()
  // Pipelined in batches: node-redis sends the commands of one tick together.
  const BATCH = 10_000
  for (let done = 0; done < count; done += BATCH) {
    const n = Math.min(BATCH, count - done)
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.sendCommand(['SET', `jwtguard:jti:${done + i === count - 1 ? last : randomUUID()}`, exp, 'EXAT', exp]),
      ),
    )
  }
  const measure = (): NodeJS.MemoryUsage => {
    gc()
    return process.memoryUsage()
  }
  const before = measure()
  const started = performance.now()
  const store = redisRevocationStore({ client, replicate: { maxLagMs: 60_000 } })
  const auth = { token: '', header: { alg: 'RS256' }, ...((c) => ({ payload: c, claims: c }))({ jti: last, sub: 's', iat: 0 }) }
  // 503 (loading) until the first full load is done; then the last key written is found in memory.
  for (;;) {
    const revoked = await store.isRevoked({ ...auth, scopes: [], roles: [], encrypted: false }).catch(() => undefined)
    if (revoked === true) break
    if (performance.now() - started > 300_000) throw new Error('the replica did not load within 300 s')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const loadSeconds = (performance.now() - started) / 1000
  const after = measure()
  await store.close()
  const output: ReplicaRunOutput = { count, heapGrowth: after.heapUsed - before.heapUsed, rssGrowth: after.rss - before.rss, loadSeconds }
  process.send(output, () => process.exit(0))
} finally {
  await client.quit().catch(() => undefined)
  await redis.stop()
}
