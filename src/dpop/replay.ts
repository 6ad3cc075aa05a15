import { LRUCache } from 'lru-cache'

/** Remembers DPoP proof `jti`s for as long as a proof could be accepted, so none is used twice. */
export interface DpopReplayStore {
  /** Records `jti`; resolves `true` if it was new, `false` if it was seen before (a replay). */
  remember(jti: string, ttlSeconds: number): Promise<boolean>
}

/** An in-process replay store (bounded). For a fleet, use `redisDpopReplayStore` from `jwtguard/redis`. */
export function memoryDpopReplayStore(options: { max?: number } = {}): DpopReplayStore {
  const max = options.max ?? 100_000
  if (!Number.isInteger(max) || max < 1) throw new TypeError('jwtguard: memoryDpopReplayStore option "max" must be a positive integer')
  const seen = new LRUCache<string, true>({ max })
  return {
    async remember(jti, ttlSeconds) {
      if (seen.has(jti)) return false
      seen.set(jti, true, { ttl: Math.ceil(ttlSeconds * 1000) })
      return true
    },
  }
}
