import { tokenDigest } from '../cache.js'
import type { AuthInfo } from '../types.js'
import type { Verified } from './verified.js'
import type { Settings } from './settings.js'
import { checkSize, verifyToken } from './token.js'

/** The cache key of a token, or `undefined` when there is no cache or the token cannot be a verified one. */
function cacheKey<C>(s: Settings<C>, token: string): string | undefined {
  if (!s.cache || typeof token !== 'string' || token.length > s.maxTokenLength) return undefined
  return tokenDigest(token)
}

/**
 * The token's `AuthInfo`: synchronously from the cache when it holds the token
 * (the hot path), otherwise its verification. Throws synchronously what intake
 * refuses.
 */
export function verifiedAuth<C>(s: Settings<C>, token: string): AuthInfo<C> | Promise<AuthInfo<C>> {
  const digest = cacheKey(s, token)
  const hit = digest === undefined ? undefined : s.cache!.get(digest, token)
  if (!hit) return verifyCached(s, token, digest)
  s.emit?.({ type: 'cache_hit' })
  return hit
}

/**
 * The full verification, then the cache; one shared verification per distinct
 * token while it waits. Throws synchronously what intake refuses, and what an
 * answer known at once refuses (held keys, HMAC); everything later rejects.
 */
function verifyCached<C>(s: Settings<C>, token: string, digest: string | undefined): AuthInfo<C> | Promise<AuthInfo<C>> {
  checkSize(s, token)
  // Keyed by the token itself: an entry lives only while its verification runs.
  // Nothing in flight (a quiet server, HMAC and lone checks answered at once): no need to hash the token for a lookup.
  const running = s.inflight.size === 0 ? undefined : s.inflight.get(token)
  if (running) return running.then(({ auth }) => ({ ...auth }))
  const work = verifyToken(s, token)
  if (!(work instanceof Promise)) return remember(s, digest, work)
  s.inflight.set(token, work)
  return work.then(
    (verified) => {
      s.inflight.delete(token)
      return remember(s, digest, verified)
    },
    (err: unknown) => {
      s.inflight.delete(token)
      throw err
    },
  )
}

function remember<C>(s: Settings<C>, digest: string | undefined, { auth, until, lease }: Verified<C>): AuthInfo<C> {
  if (digest !== undefined) s.cache?.set(digest, auth, until, lease)
  return auth
}
