import { GuardError } from '../errors.js'
import type { DpopReplayStore } from '../dpop/replay.js'
import type { AuthInfo } from '../types.js'
import {
  checkRevokeArgs,
  checkStoreOptions,
  revocationKeys,
  revokedBySubject,
  type RevocationContext,
  type RevocationStore,
  type RevocationStoreOptions,
} from './store.js'

/** The part of a `redis` v5 client this store uses (`createClient()` from the `redis` package). */
export interface RedisLikeClient {
  mGet(keys: string[]): Promise<(string | null | unknown)[]>
  set(key: string, value: string, options?: { expiration?: { type: 'EX' | 'EXAT'; value: number } }): Promise<unknown>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  /** `false` while disconnected: checks then fail at once instead of queueing behind the outage. */
  readonly isReady?: boolean
}

// Moves a subject cut-off forward only: a late or retried older revokeSubject must not lift a newer one.
const RAISE_CUTOFF = `local c = tonumber(redis.call('GET', KEYS[1]))
if not c or c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 1`

export interface RedisRevocationStoreOptions extends RevocationStoreOptions {
  client: RedisLikeClient
  /** Prefix of every key. Default `'jwtguard:'`; keys are `<prefix>jti:<jti>` and `<prefix>sub:<sub>`. */
  prefix?: string
  /** Deadline of one Redis call, in ms. Default 200. */
  timeout?: number
  /** `true`: when Redis cannot answer, let tokens through (reported via `onEvent`). Default `false`: 503. */
  failOpen?: boolean
}

export interface RedisRevocationStore extends RevocationStore {
  /** Seconds a `jti` entry outlives `expiresAt`. */
  readonly leeway: number
  /** Refuses the token with this id (its `jti`, or the guard's `jtiClaim`), on every instance, until `expiresAt` (epoch seconds) plus `leeway`. */
  revoke(jti: string, expiresAt: number): Promise<void>
  /** Refuses every token of `sub` issued before `at` (epoch seconds), on every instance; a later cut-off wins. */
  revokeSubject(sub: string, at: number): Promise<void>
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms)
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}

/**
 * One Redis call within `ms`. Redis queues commands while disconnected; failing at once instead keeps that
 * queue from growing with every request of an outage (and from replaying stale checks when Redis returns).
 */
function redisCall<T>(client: { readonly isReady?: boolean }, ms: number, work: () => Promise<T>): Promise<T> {
  return client.isReady === false ? Promise.reject(new Error('not_connected')) : withDeadline(work(), ms)
}

/**
 * A revocation store shared by a fleet through Redis: one `MGET` per check
 * (the `jti` entry and the subject cut-off), entries expiring with the token.
 */
export function redisRevocationStore(options: RedisRevocationStoreOptions): RedisRevocationStore {
  const { subjectTtl, missingJti, leeway } = checkStoreOptions(options ?? ({} as RedisRevocationStoreOptions), 'redisRevocationStore')
  const { client, prefix = 'jwtguard:', timeout = 200, failOpen = false } = options
  if (typeof client?.mGet !== 'function' || typeof client.set !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError('jwtguard: redisRevocationStore option "client" must be a connected `redis` v5 client')
  }
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new TypeError('jwtguard: redisRevocationStore option "timeout" must be a positive number of ms')

  const call = <T>(work: () => Promise<T>): Promise<T> => redisCall(client, timeout, work)

  const unavailable = (cause: unknown): GuardError =>
    new GuardError(
      'ERR_REVOCATION_UNAVAILABLE',
      'Revocation service unavailable',
      { reason: cause instanceof Error ? cause.message : 'error' },
      { cause },
    )
  // revoke/revokeSubject fail fast during an outage (nothing is queued): callers retry; both are idempotent.
  const write = async (work: () => Promise<unknown>): Promise<void> => {
    try {
      await call(work)
    } catch (cause) {
      throw unavailable(cause)
    }
  }

  return {
    leeway,
    async revoke(jti, expiresAt) {
      checkRevokeArgs(jti, expiresAt, 'revoke(jti, expiresAt)')
      const until = Math.ceil(expiresAt + leeway)
      if (until * 1000 <= Date.now()) return
      await write(() => client.set(`${prefix}jti:${jti}`, '1', { expiration: { type: 'EXAT', value: until } }))
    },
    async revokeSubject(sub, at) {
      checkRevokeArgs(sub, at, 'revokeSubject(sub, at)')
      await write(() =>
        client.eval(RAISE_CUTOFF, { keys: [`${prefix}sub:${sub}`], arguments: [String(at), String(Math.ceil(subjectTtl))] }),
      )
    },
    async isRevoked(auth: AuthInfo<unknown>, context?: RevocationContext) {
      const keys = revocationKeys(auth, missingJti, context?.jtiClaim)
      let found: unknown[]
      try {
        found = await call(() => client.mGet([`${prefix}jti:${keys.jti ?? ''}`, `${prefix}sub:${keys.sub ?? ''}`]))
      } catch (cause) {
        context?.emit?.({ type: 'revocation_unavailable', reason: cause instanceof Error ? cause.message : 'error', failOpen })
        if (failOpen) return false
        throw unavailable(cause)
      }
      if (keys.jti !== undefined && found[0] != null) return true
      const cutoff = keys.sub !== undefined && typeof found[1] === 'string' ? Number(found[1]) : undefined
      return revokedBySubject(cutoff, keys.iat)
    },
  }
}

export interface RedisDpopReplayStoreOptions {
  client: Pick<RedisLikeClient, 'set' | 'isReady'> & {
    set(key: string, value: string, options: { condition: 'NX'; expiration: { type: 'EX'; value: number } }): Promise<unknown>
  }
  /** Key prefix; keys are `<prefix>dpop:<thumbprint>:<jti>`. Default `'jwtguard:'`. */
  prefix?: string
  /** Deadline of one Redis call, in ms. Default 200. */
  timeout?: number
}

/**
 * DPoP proof `jti`s remembered in Redis (`SET NX EX`): a proof replayed to any
 * instance of the fleet is refused. When Redis cannot answer, requests with
 * DPoP proofs get 503 (a replay cannot be ruled out).
 */
export function redisDpopReplayStore(options: RedisDpopReplayStoreOptions): DpopReplayStore {
  const { client, prefix = 'jwtguard:', timeout = 200 } = options ?? ({} as RedisDpopReplayStoreOptions)
  if (typeof client?.set !== 'function')
    throw new TypeError('jwtguard: redisDpopReplayStore option "client" must be a connected `redis` v5 client')
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new TypeError('jwtguard: redisDpopReplayStore option "timeout" must be a positive number of ms')
  return {
    async remember(jti, ttlSeconds) {
      try {
        const expiration = { type: 'EX' as const, value: Math.ceil(ttlSeconds) }
        return (await redisCall(client, timeout, () => client.set(`${prefix}dpop:${jti}`, '1', { condition: 'NX', expiration }))) !== null
      } catch (cause) {
        throw new GuardError(
          'ERR_DPOP_REPLAY_UNAVAILABLE',
          'DPoP replay check unavailable',
          { reason: cause instanceof Error ? cause.message : 'error' },
          { cause },
        )
      }
    },
  }
}
