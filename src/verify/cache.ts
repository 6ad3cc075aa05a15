import { tokenDigest } from '../cache.js'
import type { AuthInfo } from '../types.js'
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
 * One shared verification per distinct token in flight, then the full
 * verification, then the cache. Throws synchronously what intake refuses;
 * everything later rejects.
 */
function verifyCached<C>(s: Settings<C>, token: string, digest: string | undefined): Promise<AuthInfo<C>> {
  checkSize(s, token)
  // Keyed by the token itself: an entry lives only while its verification runs.
  const running = s.inflight.get(token)
  if (running) return running.then(({ auth }) => ({ ...auth }))
  const work = verifyToken(s, token)
  s.inflight.set(token, work)
  return work.then(
    ({ auth, until, lease }) => {
      s.inflight.delete(token)
      if (digest !== undefined) s.cache?.set(digest, auth, until, lease)
      return auth
    },
    (err: unknown) => {
      s.inflight.delete(token)
      throw err
    },
  )
}
