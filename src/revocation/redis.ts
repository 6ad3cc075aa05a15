import { GuardError } from '../errors.js'
import type { DpopReplayStore } from '../dpop/replay.js'
import type { AuthInfo } from '../types.js'
import { Deployment } from '../redis/deployment.js'
import { markersOf } from '../redis/markers.js'
import { replicatedStore, checkReplicate } from '../redis/replica.js'
import { isClient, reasonOf, redisCall, topologyOf, type RedisLikeClient } from '../redis/topology.js'
import { keysOf, writeChange, type Change } from '../redis/writes.js'
import {
  checkRevokeArgs,
  checkStoreOptions,
  revocationKeys,
  revokedBySubject,
  type RevocationContext,
  type RevocationStore,
  type RevocationStoreOptions,
} from './store.js'
import { optionError } from '../option-error.js'

export type { RedisLikeClient } from '../redis/topology.js'

export interface RedisRevocationStoreOptions extends RevocationStoreOptions {
  /** A connected `redis` v5 client: `createClient()`, `createCluster()` or `createSentinel()`. */
  client: RedisLikeClient
  /** Prefix of every key. Default `'jwtguard:'`; keys are `<prefix>jti:<jti>`, `<prefix>sub:<sub>`, `<prefix>log`, `<prefix>marker…`. */
  prefix?: string
  /** Deadline of one Redis call, in ms, and of the wait for a replica after a write. Default 200. */
  timeout?: number
  /** `true`: when Redis cannot answer, let tokens through (reported via `onEvent`). Default `false`: 503. A wiped Redis always fails closed. */
  failOpen?: boolean
  /**
   * Keep the whole deny-list in this instance's memory, kept current from Redis: no Redis call per request.
   * `maxLagMs` (default 1,000, at most 60,000): a revoke is in force everywhere within it, and an instance
   * that has not heard from Redis for longer answers 503. Default `false`: one Redis round trip per check.
   */
  replicate?: boolean | { maxLagMs?: number }
}

export interface RedisRevocationStore extends RevocationStore {
  /** Seconds a `jti` entry outlives `expiresAt`. */
  readonly leeway: number
  /** Refuses the token with this id (its `jti`, or the guard's `jtiClaim`), on every instance, until `expiresAt` (epoch seconds) plus `leeway`. */
  revoke(jti: string, expiresAt: number): Promise<void>
  /** Refuses every token of `sub` issued before `at` (epoch seconds), on every instance; a later cut-off wins. */
  revokeSubject(sub: string, at: number): Promise<void>
  /**
   * After a wipe was reported (`revocation_store_reset` with `restored: false`): declares that Redis holds
   * the deny-list again (re-issue the revocations first), and lifts the 503 on every instance.
   */
  acknowledgeReset(): Promise<void>
  /** Stops the replica's timer (replicated mode); the client stays yours to close. */
  close(): Promise<void>
}

/** How long the first marker read (all markers of a cluster) may take. */
const START_MS = 5_000

export const unavailable = (cause: unknown): GuardError =>
  new GuardError('ERR_REVOCATION_UNAVAILABLE', 'Revocation service unavailable', { reason: reasonOf(cause) }, { cause })

/**
 * A revocation store shared by a fleet through Redis (standalone, Cluster or Sentinel). By default one
 * round trip per check (the `jti` entry, the subject cut-off and the marker of their slot); with
 * `replicate`, a local copy of the deny-list and no round trip. Entries expire with the token.
 */
export function redisRevocationStore(options: RedisRevocationStoreOptions): RedisRevocationStore {
  const { subjectTtl, missingJti, leeway } = checkStoreOptions(options ?? ({} as RedisRevocationStoreOptions), 'redisRevocationStore')
  const { client, prefix = 'jwtguard:', timeout = 200, failOpen = false } = options
  if (!isClient(client)) throw optionError('client', 'must be a connected `redis` v5 client', { of: 'redisRevocationStore' })
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw optionError('timeout', 'must be a positive number of ms', { of: 'redisRevocationStore', given: timeout })
  const replicate = checkReplicate(options.replicate)

  const topology = topologyOf(client)
  const keys = keysOf(prefix)
  const deployment = new Deployment(topology, markersOf(prefix, topology), `${prefix}ack`)
  // Learn the deployment id now, so a wipe before this instance's first check is still seen as one.
  deployment.ensure().catch(() => {})
  // A write is two steps (the key, the log), each waiting up to `timeout` for a replica after its round trip.
  const write = async (change: Change): Promise<void> => {
    try {
      await redisCall(topology, 5 * timeout, () => writeChange(topology, keys, change, timeout))
    } catch (cause) {
      throw unavailable(cause)
    }
  }
  const writer = {
    leeway,
    async revoke(jti: string, expiresAt: number) {
      checkRevokeArgs(jti, expiresAt, 'revoke(jti, expiresAt)')
      const until = Math.ceil(expiresAt + leeway)
      if (until * 1000 <= Date.now()) return
      await write({ kind: 'jti', id: jti, expiresMs: until * 1000 })
    },
    async revokeSubject(sub: string, at: number) {
      checkRevokeArgs(sub, at, 'revokeSubject(sub, at)')
      await write({ kind: 'sub', id: sub, at, expiresMs: Date.now() + Math.ceil(subjectTtl) * 1000 })
    },
    async acknowledgeReset() {
      try {
        await redisCall(topology, START_MS, () => deployment.acknowledge())
      } catch (cause) {
        throw unavailable(cause)
      }
    },
  }
  if (replicate) return { ...writer, ...replicatedStore({ topology, keys, deployment, missingJti, failOpen, timeout, ...replicate }) }

  const markers = deployment.markers
  // One MGET where every key shares a node; on a cluster one GET per key (and per slot marker), in parallel.
  const lookup = topology.cluster
    ? (jti: string, sub: string) =>
        Promise.all([jti, sub, markers.forKey(jti), markers.forKey(sub)].map((key) => topology.send(key, ['GET', key])))
    : (jti: string, sub: string) => topology.send(jti, ['MGET', jti, sub, markers.forKey(jti)]) as Promise<unknown[]>

  return {
    ...writer,
    async close() {},
    async isRevoked(auth: AuthInfo<unknown>, context?: RevocationContext) {
      const ids = revocationKeys(auth, missingJti, context?.jtiClaim)
      deployment.listen(context?.emit)
      let found: unknown[]
      try {
        if (deployment.id === undefined) await redisCall(topology, START_MS, () => deployment.ensure())
        found = await redisCall(topology, timeout, () => lookup(keys.jti(ids.jti ?? ''), keys.sub(ids.sub ?? '')))
      } catch (cause) {
        context?.emit?.({ type: 'revocation_unavailable', reason: reasonOf(cause), failOpen })
        if (failOpen) return false
        throw unavailable(cause)
      }
      // An emptied Redis would answer "nothing is revoked": refuse until the deny-list is back.
      const ack = deployment.wiped ? await redisCall(topology, timeout, () => deployment.readAck()).catch(() => undefined) : undefined
      if (!deployment.check(found.slice(2), false, ack)) throw unavailable(new Error('reset'))
      if (ids.jti !== undefined && found[0] != null) return true
      const cutoff = ids.sub !== undefined && typeof found[1] === 'string' ? Number(found[1]) : undefined
      return revokedBySubject(cutoff, ids.iat)
    },
  }
}

export interface RedisDpopReplayStoreOptions {
  /** A connected `redis` v5 client: `createClient()`, `createCluster()` or `createSentinel()`. */
  client: RedisLikeClient
  /** Key prefix; keys are `<prefix>dpop:<thumbprint>:<jti>`. Default `'jwtguard:'`. */
  prefix?: string
  /** Deadline of one Redis call, in ms, and of the wait for a replica. Default 200. */
  timeout?: number
}

/**
 * DPoP proof `jti`s remembered in Redis (`SET NX EX`, then `WAIT` for a replica where there is one, so a
 * failover forgets no proof): a proof replayed to any instance of the fleet is refused. When Redis cannot
 * answer, requests with DPoP proofs get 503 (a replay cannot be ruled out).
 */
export function redisDpopReplayStore(options: RedisDpopReplayStoreOptions): DpopReplayStore {
  const { client, prefix = 'jwtguard:', timeout = 200 } = options ?? ({} as RedisDpopReplayStoreOptions)
  if (!isClient(client)) throw optionError('client', 'must be a connected `redis` v5 client', { of: 'redisDpopReplayStore' })
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw optionError('timeout', 'must be a positive number of ms', { of: 'redisDpopReplayStore', given: timeout })
  const topology = topologyOf(client)
  return {
    async remember(jti, ttlSeconds) {
      const key = `${prefix}dpop:${jti}`
      try {
        const args = ['SET', key, '1', 'NX', 'EX', String(Math.ceil(ttlSeconds))]
        return (await redisCall(topology, 3 * timeout, () => topology.durable(key, args, timeout))) !== null
      } catch (cause) {
        throw new GuardError('ERR_DPOP_REPLAY_UNAVAILABLE', 'DPoP replay check unavailable', { reason: reasonOf(cause) }, { cause })
      }
    },
  }
}
