import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { KeyLease } from './keys/lease.js'
import type { AuthInfo } from './types.js'
import { optionError } from './option-error.js'

/** Verified-token cache settings. */
export interface CacheOptions {
  /** Most tokens held. Default 10,000. */
  max?: number
  /**
   * Longest time a verified token is reused, in seconds (never past its `exp`).
   * A token whose key left its set (refetch or `guard.reload()`) is judged
   * afresh at once; for `getKey` keys, which jwtguard cannot see leave, only
   * `guard.reload()` or this bound does it. Default 60.
   */
  ttl?: number
}

/** Reuse of verified tokens. */
export interface GuardCacheOptions {
  /**
   * Verified-token cache: a token seen before is not verified again until
   * `min(exp, ttl)`. Revocation still runs on every request. Default
   * `{ max: 10000, ttl: 60 }`; `false` turns it off.
   */
  cache?: CacheOptions | false
}

type Entry<C> = Omit<AuthInfo<C>, 'token'> & { validUntil: number; lease: KeyLease }

/**
 * Digest of the token: the cache never holds tokens themselves. Intake has made the token canonical. A latin1 ('binary')
 * string of the 32 bytes: an in-memory key only, and a fifth cheaper to make than its base64url form.
 */
export const tokenDigest = (token: string): string => hash('sha256', token, 'binary')

/** Freezes plain objects and arrays all the way down (other objects, such as a `KeyObject`, are left as they are). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return value
    Object.freeze(value)
    // Own keys only (no array of values made); most members are strings and numbers, which need no call.
    const members = value as Record<string, unknown>
    for (const key of Object.keys(members)) {
      const member = members[key]
      if (typeof member === 'object' && member !== null) deepFreeze(member)
    }
  }
  return value
}

/**
 * Holds the final `AuthInfo` of verified tokens (claims frozen, scopes and
 * roles parsed) until `min(exp, ttl)`, bounded by `max`, or until the key
 * that verified it is withdrawn (one flag read per hit). Failures are never
 * cached; revocation and per-request checks run on every hit anyway.
 */
export class VerifiedCache<C> {
  private readonly lru: LRUCache<string, Entry<C>>
  private readonly ttlMs: number

  constructor(options: Required<CacheOptions>) {
    this.lru = new LRUCache({ max: options.max })
    this.ttlMs = options.ttl * 1000
  }

  get(digest: string, token: string): AuthInfo<C> | undefined {
    const entry = this.lru.get(digest)
    if (!entry) return undefined
    if (entry.lease.withdrawn || Date.now() >= entry.validUntil) {
      this.lru.delete(digest)
      return undefined
    }
    const auth: AuthInfo<C> = {
      token,
      header: entry.header,
      payload: entry.payload,
      claims: entry.claims,
      scopes: entry.scopes,
      roles: entry.roles,
      encrypted: entry.encrypted,
    }
    if (entry.cnf) auth.cnf = entry.cnf
    return auth
  }

  /**
   * `validUntil`: epoch ms after which the token's own claims would refuse it. `lease`: of the key
   * that verified it; a key withdrawn while the token was being verified vouches for nothing more.
   */
  set(digest: string, auth: AuthInfo<C>, validUntil: number, lease: KeyLease): void {
    const until = Math.min(validUntil, Date.now() + this.ttlMs)
    if (until <= Date.now() || lease.withdrawn) return
    const { header, payload, claims, scopes, roles, encrypted, cnf } = auth
    this.lru.set(digest, {
      ...(cnf ? { cnf: deepFreeze(cnf) } : {}),
      header: deepFreeze(header),
      payload: deepFreeze(payload),
      claims,
      scopes: deepFreeze(scopes),
      roles: deepFreeze(roles),
      encrypted,
      validUntil: until,
      lease,
    })
  }

  get size(): number {
    return this.lru.size
  }
}

export function cacheSettings(value: CacheOptions | false | undefined): Required<CacheOptions> | undefined {
  if (value === false) return undefined
  if (value !== undefined && (typeof value !== 'object' || value === null))
    throw optionError('cache', 'must be { max?, ttl? } or false', { given: value })
  const max = value?.max ?? 10_000
  const ttl = value?.ttl ?? 60
  if (!Number.isInteger(max) || max < 1) throw optionError('cache.max', 'must be a positive integer', { given: max })
  if (!Number.isFinite(ttl) || ttl <= 0) throw optionError('cache.ttl', 'must be a positive number of seconds', { given: ttl })
  return { max, ttl }
}
