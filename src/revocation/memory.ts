import { LRUCache } from 'lru-cache'
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

export interface MemoryRevocationStoreOptions extends RevocationStoreOptions {
  /** Most entries held (revoked `jti`s and subjects, each). Default 100,000. When full, the oldest go first. */
  max?: number
}

export interface MemoryRevocationStore extends RevocationStore {
  /** Seconds a `jti` entry outlives `expiresAt`. */
  readonly leeway: number
  /** Refuses the token with this id (its `jti`, or the guard's `jtiClaim`) until `expiresAt` (epoch seconds, its `exp`) plus `leeway`. */
  revoke(jti: string, expiresAt: number): Promise<void>
  /** Refuses every token of `sub` issued before `at` (epoch seconds); a later cut-off wins. */
  revokeSubject(sub: string, at: number): Promise<void>
  /** Entries held now: revoked `jti`s and subject cut-offs. */
  readonly size: { jti: number; subjects: number }
}

/** A bounded in-process store: right for one instance; use the Redis store for a fleet. */
export function memoryRevocationStore(options: MemoryRevocationStoreOptions = {}): MemoryRevocationStore {
  const { subjectTtl, missingJti, leeway } = checkStoreOptions(options, 'memoryRevocationStore')
  const max = options.max ?? 100_000
  if (!Number.isInteger(max) || max < 1) throw new TypeError('jwtguard: memoryRevocationStore option "max" must be a positive integer')
  const jtis = new LRUCache<string, true>({ max, ttlAutopurge: false })
  const subjects = new LRUCache<string, number>({ max, ttl: subjectTtl * 1000 })

  return {
    leeway,
    async revoke(jti, expiresAt) {
      checkRevokeArgs(jti, expiresAt, 'revoke(jti, expiresAt)')
      const ttl = (expiresAt + leeway) * 1000 - Date.now()
      if (ttl > 0) jtis.set(jti, true, { ttl: Math.ceil(ttl) })
    },
    async revokeSubject(sub, at) {
      checkRevokeArgs(sub, at, 'revokeSubject(sub, at)')
      subjects.set(sub, Math.max(at, subjects.get(sub) ?? Number.NEGATIVE_INFINITY))
    },
    async isRevoked(auth: AuthInfo<unknown>, context?: RevocationContext) {
      const keys = revocationKeys(auth, missingJti, context?.jtiClaim)
      if (keys.jti !== undefined && jtis.has(keys.jti)) return true
      return keys.sub !== undefined && revokedBySubject(subjects.get(keys.sub), keys.iat)
    },
    get size() {
      return { jti: jtis.size, subjects: subjects.size }
    },
  }
}
