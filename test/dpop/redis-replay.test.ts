import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type Guard, type GuardRequest } from '../../src/index.js'
import { redisDpopReplayStore } from '../../src/revocation/redis.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { redisServerAvailable, startRedis, type RedisServer } from '../helpers/redis.js'
import { clientKey, signProof, type ClientKey } from './fixtures.js'
import { rejection } from '../helpers/shared.js'

type Client = ReturnType<typeof createClient>

// Two instances of one API behind a load balancer: the same external origin, one Redis.
const ORIGIN = 'https://api.example.test'
const PROOF_MAX_AGE = 30

async function connect(url: string): Promise<Client> {
  // A client without an 'error' listener crashes the process when Redis goes away.
  const client = createClient({ url, socket: { reconnectStrategy: () => 50 } })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** Waits (bounded) until the client sees the connection as `ready`. */
async function until(client: Client, ready: boolean): Promise<void> {
  for (let i = 0; i < 200 && client.isReady !== ready; i++) await sleep(25)
  expect(client.isReady).toBe(ready)
}

const request = (token: string, proof: string): GuardRequest => ({
  headers: { host: 'internal:8080', authorization: `DPoP ${token}`, dpop: proof },
  method: 'GET',
  url: '/orders',
})

describe.skipIf(!redisServerAvailable())('redisDpopReplayStore: instances sharing one Redis', () => {
  let redis: RedisServer
  let issuer: TestIssuer
  let key: ClientKey
  const clients: Client[] = []
  let a: Guard
  let b: Guard

  const instance = (client: Client) =>
    createGuard({
      ...issuer.guardOptions(),
      jwksUri: issuer.jwksUri,
      dpop: { algorithms: ['ES256'], origin: ORIGIN, proofMaxAge: PROOF_MAX_AGE, replayStore: redisDpopReplayStore({ client }) },
    })
  const token = () => issuer.sign({ cnf: { jkt: key.jkt } }, { alg: 'ES256' })
  const proofFor = (t: string) => signProof(key, { htu: `${ORIGIN}/orders`, token: t })

  beforeAll(async () => {
    redis = await startRedis()
    issuer = await createTestIssuer({ algorithms: ['ES256'] })
    key = await clientKey('ES256')
    clients.push(await connect(redis.url), await connect(redis.url), await connect(redis.url))
    a = instance(clients[0]!)
    b = instance(clients[1]!)
  })

  afterAll(async () => {
    for (const client of clients) client.destroy()
    await issuer?.close()
    await redis?.stop()
  })

  it('a proof accepted by instance A is a replay on instance B', async () => {
    const t = await token()
    const proof = await proofFor(t)
    expect((await a.authenticate(request(t, proof)))?.cnf).toEqual({ jkt: key.jkt })
    const err = await rejection(b.authenticate(request(t, proof)))
    expect({ code: err.code, message: err.message, reason: err.context.reason }).toEqual({
      code: 'ERR_DPOP_PROOF_INVALID',
      message: 'DPoP proof replayed',
      reason: 'replay',
    })
    expect(err.headers['WWW-Authenticate']).toBe(
      'DPoP realm="api", error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256"',
    )
    // Fresh proofs from the same client still pass on either instance.
    expect((await b.authenticate(request(t, await proofFor(t))))?.cnf).toEqual({ jkt: key.jkt })
    expect((await a.authenticate(request(t, await proofFor(t))))?.cnf).toEqual({ jkt: key.jkt })
  })

  it('keeps each jti (keyed by the proof key) as long as a proof could be accepted: SET NX EX', async () => {
    const t = await token()
    const proof = await proofFor(t)
    await a.authenticate(request(t, proof))
    const jti = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()).jti as string
    const redisKey = `jwtguard:dpop:${key.jkt}:${jti}`
    const admin = clients[2]!
    expect(await admin.get(redisKey)).toBe('1')
    const ttl = await admin.ttl(redisKey)
    // iat may be up to proofMaxAge either side of now: the window is 2 × proofMaxAge (+1 s).
    expect(ttl).toBeGreaterThan(2 * PROOF_MAX_AGE - 5)
    expect(ttl).toBeLessThanOrEqual(2 * PROOF_MAX_AGE + 1)
  })

  it('Redis down: 503 ERR_DPOP_REPLAY_UNAVAILABLE, no challenge; back up: proofs pass again', async () => {
    await redis.stop()
    await until(clients[0]!, false)
    const t = await token()
    const err = await rejection(a.authenticate(request(t, await proofFor(t))))
    expect({ code: err.code, status: err.status, challenge: err.headers['WWW-Authenticate'] }).toEqual({
      code: 'ERR_DPOP_REPLAY_UNAVAILABLE',
      status: 503,
      challenge: undefined,
    })

    await redis.restart()
    await until(clients[0]!, true)
    expect((await a.authenticate(request(t, await proofFor(t))))?.cnf).toEqual({ jkt: key.jkt })
  })
})
