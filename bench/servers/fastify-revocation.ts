import Fastify from 'fastify'
import { createClient } from 'redis'
import { createGuard, memoryRevocationStore, type RevocationStore } from 'jwtguard'
import { jwtGuard } from 'jwtguard/fastify'
import { redisRevocationStore } from 'jwtguard/redis'
import { readConfig } from './common.js'
import { REVOCATION_VARIANTS, ROUTE, type RevocationVariant } from './protocol.js'

/**
 * Fastify 5 with the default token cache and one revocation setup per server (started by bench/revocation.ts):
 * `none`, `memory`, `redis-direct`, `redis-replicated`. Reports `{ type: 'ready', ports }` over IPC.
 */

const config = readConfig()
const redisUrl = process.env.BENCH_REDIS_URL
if (!redisUrl || !process.send) throw new Error('started by bench/revocation.ts, with BENCH_REDIS_URL and IPC')

async function storeFor(variant: RevocationVariant): Promise<RevocationStore | undefined> {
  if (variant === 'none') return undefined
  if (variant === 'memory') return memoryRevocationStore()
  const client = createClient({ url: redisUrl })
  client.on('error', () => {})
  await client.connect()
  const store = redisRevocationStore({ client, ...(variant === 'redis-replicated' ? { replicate: true } : {}) })
  // The replicated store answers 503 until its first full load.
  for (let i = 0; i < 200 && variant === 'redis-replicated'; i++) {
    const payload = { jti: 'warm-up', sub: 's', iat: 0 }
    const ready = await store
      .isRevoked({ token: '', header: { alg: 'RS256' }, payload, claims: payload, scopes: [], roles: [], encrypted: false })
      .then(
        () => true,
        () => false,
      )
    if (ready) break
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return store
}

const ports: Partial<Record<RevocationVariant, number>> = {}
for (const variant of REVOCATION_VARIANTS) {
  const revocation = await storeFor(variant)
  const guard = createGuard({
    issuer: config.issuer,
    audience: config.audience,
    jwksUri: config.jwksUri,
    ...(revocation ? { revocation } : {}),
  })
  await guard.ready()
  const app = Fastify({ logger: false })
  await app.register(jwtGuard, { guard })
  app.get(ROUTE, async (request) => ({ sub: request.auth?.payload.sub }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  ports[variant] = (app.server.address() as import('node:net').AddressInfo).port
}
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
process.send({ type: 'ready', ports })
