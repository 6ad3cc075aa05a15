import { GuardError } from '../errors.js'
import { eventSink, type EventSink, type GuardEvent } from '../events.js'
import type { AuthInfo } from '../types.js'
import { ExpiringMap } from './expiring.js'
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

export interface MemoryRevocationStoreOptions extends RevocationStoreOptions {
  /**
   * Most entries held (revoked `jti`s and subjects, each). Default 100,000. An entry
   * is never dropped before it expires: when `max` live entries are held, `revoke` /
   * `revokeSubject` of a new one rejects with `ERR_REVOCATION_STORE_FULL`.
   */
  max?: number
  /**
   * Receives `store_full` events (a `revoke` that did not take). Default: the
   * `onEvent` of the first guard that consults the store. What it throws is ignored.
   */
  onEvent?: (event: GuardEvent) => void
}

export interface MemoryRevocationStore extends RevocationStore {
  /** Seconds a `jti` entry outlives `expiresAt`. */
  readonly leeway: number
  /**
   * Refuses the token with this id (its `jti`, or the guard's `jtiClaim`) until `expiresAt` (epoch seconds, its
   * `exp`) plus `leeway`. Rejects with `ERR_REVOCATION_STORE_FULL` when the store holds `max` live ids.
   */
  revoke(jti: string, expiresAt: number): Promise<void>
  /**
   * Refuses every token of `sub` issued before `at` (epoch seconds); a later cut-off wins.
   * Rejects with `ERR_REVOCATION_STORE_FULL` when the store holds `max` live subjects.
   */
  revokeSubject(sub: string, at: number): Promise<void>
  /** Entries held now: revoked `jti`s and subject cut-offs. */
  readonly size: { jti: number; subjects: number }
}

/** A bounded in-process store that fails closed when full: right for one instance; use the Redis store for a fleet. */
export function memoryRevocationStore(options: MemoryRevocationStoreOptions = {}): MemoryRevocationStore {
  const { subjectTtl, missingJti, leeway } = checkStoreOptions(options, 'memoryRevocationStore')
  const max = options.max ?? 100_000
  if (!Number.isInteger(max) || max < 1) throw optionError('max', 'must be a positive integer', { of: 'memoryRevocationStore', given: max })
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function')
    throw optionError('onEvent', 'must be a function', { of: 'memoryRevocationStore' })
  let emit: EventSink | undefined = eventSink(options.onEvent)
  const jtis = new ExpiringMap<true>(max)
  const subjects = new ExpiringMap<number>(max)

  const full = (kind: 'jti' | 'subject'): GuardError => {
    emit?.({ type: 'store_full', store: kind === 'jti' ? 'revocation_jti' : 'revocation_subject', max })
    return new GuardError('ERR_REVOCATION_STORE_FULL', 'Revocation store full', { reason: 'full', kind, max })
  }

  return {
    leeway,
    async revoke(jti, expiresAt) {
      checkRevokeArgs(jti, expiresAt, 'revoke(jti, expiresAt)')
      const now = Date.now()
      const until = (expiresAt + leeway) * 1000
      if (until > now && !jtis.set(jti, true, until, now)) throw full('jti')
    },
    async revokeSubject(sub, at) {
      checkRevokeArgs(sub, at, 'revokeSubject(sub, at)')
      const now = Date.now()
      const cutoff = Math.max(at, subjects.get(sub, now) ?? Number.NEGATIVE_INFINITY)
      if (!subjects.set(sub, cutoff, now + subjectTtl * 1000, now)) throw full('subject')
    },
    async isRevoked(auth: AuthInfo<unknown>, context?: RevocationContext) {
      emit ??= context?.emit
      const keys = revocationKeys(auth, missingJti, context?.jtiClaim)
      const now = Date.now()
      if (keys.jti !== undefined && jtis.get(keys.jti, now) !== undefined) return true
      return keys.sub !== undefined && revokedBySubject(subjects.get(keys.sub, now), keys.iat)
    },
    get size() {
      const now = Date.now()
      jtis.purge(now)
      subjects.purge(now)
      return { jti: jtis.size, subjects: subjects.size }
    },
  }
}
