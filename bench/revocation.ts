import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { createClient } from 'redis'
import { redisRevocationStore, type RedisRevocationStore } from 'jwtguard/redis'
import { startRedis } from '../test/helpers/redis.js'
import { median } from './measure.js'
import { ratio, table, type SuiteResult } from './report.js'
import { CONFIG_ENV, REVOCATION_VARIANTS, ROUTE, type RevocationVariant } from './servers/protocol.js'
import { createFixtures, serverConfig } from './setup.js'

/**
 * Revocation suite, on a redis-server of its own (loopback):
 * - propagation: a revoke through one store, until each of three replicated instances refuses the token
 *   (p50 / p99 over the samples; the target is p99 ≤ 100 ms);
 * - Fastify req/s on cache hits (1,000 tokens) with no revocation, the memory store, Redis direct and Redis
 *   replicated, in one server process, measured in interleaved rounds (the target: replicated ≥ 0.9× none).
 */

const REVOKES = 200
const CONNECTIONS = 50
const ROUNDS = 3
const ROUND_SECONDS = 4
const POOL = 1_000
const now = (): number => Math.floor(Date.now() / 1000)

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function propagation(url: string, revokes: number): Promise<number[]> {
  const clients = await Promise.all(Array.from({ length: 4 }, () => createClient({ url }).connect()))
  const writer = redisRevocationStore({ client: clients[0]! })
  const replicas: RedisRevocationStore[] = clients.slice(1).map((client) => redisRevocationStore({ client, replicate: true }))
  const auth = (jti: string) => ({
    token: '',
    header: { alg: 'RS256' },
    ...((claims) => ({ payload: claims, claims }))({ jti, sub: 's', iat: now() }),
    scopes: [],
    roles: [],
    encrypted: false,
  })
  const revoked = (store: RedisRevocationStore, jti: string) => store.isRevoked(auth(jti)).then(Boolean, () => false)
  const samples: number[] = []
  try {
    for (const store of replicas)
      for (
        let i = 0;
        i < 400 &&
        !(await store.isRevoked(auth('x')).then(
          () => true,
          () => false,
        ));
        i++
      )
        await sleep(25)
    for (let n = 0; n < revokes; n++) {
      const jti = `bench-${n}-${Math.random()}`
      const started = performance.now()
      await writer.revoke(jti, now() + 600)
      await Promise.all(
        replicas.map(async (store) => {
          // Bounded: 5 s per instance, far above maxLagMs.
          while (!(await revoked(store, jti)) && performance.now() - started < 5_000) await sleep(1)
          samples.push(performance.now() - started)
        }),
      )
    }
  } finally {
    for (const store of replicas) await store.close()
    for (const client of clients) client.destroy()
  }
  return samples
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function runRevocation({ quick = false, log = console.log } = {}): Promise<SuiteResult> {
  const redis = await startRedis()
  const f = await createFixtures()
  const tables: string[] = []
  const notes: string[] = []
  try {
    log(`  revocation · propagation · ${REVOKES} revokes × 3 replicated instances`)
    const samples = await propagation(redis.url, quick ? 50 : REVOKES)
    const p50 = percentile(samples, 50)
    const p99 = percentile(samples, 99)
    tables.push(
      table(
        'revocation · propagation to 3 replicated instances (ms, revoke call to refusal)',
        ['samples', 'p50', 'p99', 'max'],
        [[samples.length, p50, p99, Math.max(...samples)]],
      ),
    )
    if (p99 > 100) notes.push(`! propagation p99 ${p99.toFixed(1)} ms (target ≤ 100 ms)`)

    const tokens = await f.tokens('RS256', POOL)
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/servers/fastify-revocation.ts'], {
      cwd: fileURLToPath(new URL('../', import.meta.url)),
      env: { ...process.env, [CONFIG_ENV]: JSON.stringify(serverConfig(f)), BENCH_REDIS_URL: redis.url, NODE_ENV: 'production' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    try {
      const [ready] = (await Promise.race([once(child, 'message'), sleep(30_000).then(() => [undefined])])) as [
        { ports: Record<RevocationVariant, number> } | undefined,
      ]
      if (!ready) throw new Error('revocation bench server did not start within 30 s')
      const load = async (variant: RevocationVariant, seconds: number) => {
        let next = 0
        const result = await autocannon({
          url: `http://127.0.0.1:${ready.ports[variant]}`,
          connections: CONNECTIONS,
          duration: seconds,
          requests: [
            {
              method: 'GET',
              path: ROUTE,
              setupRequest: (r) => ({ ...r, headers: { ...r.headers, authorization: `Bearer ${tokens[next++ % POOL]}` } }),
            },
          ],
        })
        return { reqPerSec: result.requests.average, non2xx: result.non2xx + result.errors }
      }
      for (const variant of REVOCATION_VARIANTS) await load(variant, quick ? 1 : 2)
      const runs = new Map<RevocationVariant, number[]>(REVOCATION_VARIANTS.map((v) => [v, []]))
      let failures = 0
      for (let round = 0; round < (quick ? 1 : ROUNDS); round++) {
        const order = REVOCATION_VARIANTS.map((_, i) => REVOCATION_VARIANTS[(i + round) % REVOCATION_VARIANTS.length]!)
        log(`  revocation · fastify round ${round + 1} · ${order.length} × ${quick ? 2 : ROUND_SECONDS} s`)
        for (const variant of order) {
          const r = await load(variant, quick ? 2 : ROUND_SECONDS)
          runs.get(variant)!.push(r.reqPerSec)
          failures += r.non2xx
        }
      }
      const none = median(runs.get('none')!)
      tables.push(
        table(
          `revocation · fastify, cache hits (${CONNECTIONS} connections; median of interleaved rounds)`,
          ['revocation', 'req/s', 'ratio to none', 'rounds (req/s)'],
          REVOCATION_VARIANTS.map((v) => [
            v,
            median(runs.get(v)!),
            ratio(median(runs.get(v)!), none),
            runs.get(v)!.map(Math.round).join(' '),
          ]),
        ),
      )
      const replicated = median(runs.get('redis-replicated')!)
      if (replicated < 0.9 * none) notes.push(`! replicated ${ratio(replicated, none)} of none (target ≥ 0.9x)`)
      if (failures > 0) notes.push(`!!! WARNING: ${failures} non-2xx or errors: some rows did not measure what they claim`)
      return {
        suite: 'revocation',
        figures: [{ propagation: { p50, p99, samples: samples.length }, http: Object.fromEntries(runs) }],
        tables,
        notes,
      }
    } finally {
      child.kill('SIGTERM')
    }
  } finally {
    await f.close()
    await redis.stop()
  }
}
