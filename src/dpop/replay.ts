import { createHash } from 'node:crypto'
import { GuardError } from '../errors.js'
import { eventSink, type EventSink, type GuardEvent } from '../events.js'
import { ExpiringMap } from '../revocation/expiring.js'
import { optionError } from '../option-error.js'

/** What the guard passes to a replay store besides the `jti`. */
export interface DpopReplayContext {
  /** The guard's event sink, for stores that report refusals (`store_full`). */
  emit?: EventSink | undefined
}

/** Remembers DPoP proof `jti`s for as long as a proof could be accepted, so none is used twice. */
export interface DpopReplayStore {
  /**
   * Records `jti`; resolves `true` if it was new, `false` if it was seen before (a replay).
   * Rejects (a 503 `GuardError`) when it cannot record it: the proof is then refused.
   */
  remember(jti: string, ttlSeconds: number, context?: DpopReplayContext): Promise<boolean>
}

/** 2,000 proofs/s over the default proof window of 121 s is 242,000 entries: rounded up. */
export const DEFAULT_REPLAY_MAX = 250_000

export interface MemoryDpopReplayStoreOptions {
  /**
   * Most proof `jti`s held. Default 250,000: a proof is remembered for
   * `2 × proofMaxAge + 1` seconds (121 s by default), so this sustains
   * 250,000 ÷ 121 ≈ 2,066 new proofs per second. An entry is never dropped
   * before it expires: when `max` live entries are held, a new proof is refused
   * (503 `ERR_DPOP_REPLAY_STORE_FULL`).
   */
  max?: number
  /** Receives `store_full` events. Default: the `onEvent` of the guard the refused proof came to. What it throws is ignored. */
  onEvent?: (event: GuardEvent) => void
}

/** An in-process replay store (bounded, fails closed when full). For a fleet, use `redisDpopReplayStore` from `jwtguard/redis`. */
export function memoryDpopReplayStore(options: MemoryDpopReplayStoreOptions = {}): DpopReplayStore {
  const max = options.max ?? DEFAULT_REPLAY_MAX
  if (!Number.isInteger(max) || max < 1) throw optionError('max', 'must be a positive integer', { of: 'memoryDpopReplayStore', given: max })
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function')
    throw optionError('onEvent', 'must be a function', { of: 'memoryDpopReplayStore' })
  const own = eventSink(options.onEvent)
  const seen = new ExpiringMap<true>(max)
  return {
    async remember(jti, ttlSeconds, context) {
      // NaN would sit at the root of the expiry heap for ever and stop every purge behind it.
      if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0)
        throw new TypeError('jwtguard: memoryDpopReplayStore remember(jti, ttlSeconds) needs a positive number of seconds')
      const key = digest(jti)
      const now = Date.now()
      if (seen.get(key, now) !== undefined) return false
      if (seen.set(key, true, now + Math.ceil(ttlSeconds * 1000), now)) return true
      ;(own ?? context?.emit)?.({ type: 'store_full', store: 'dpop_replay', max })
      // Never accepted unrecorded: a proof that cannot be remembered could be replayed.
      throw new GuardError('ERR_DPOP_REPLAY_STORE_FULL', 'DPoP replay store full', { reason: 'full', max })
    },
  }
}

/**
 * 128 bits of SHA-256 as a flat 16-character string: every entry costs the same
 * whatever the length of the proof's `jti` (up to 256 characters) and however the
 * key string was built; a collision is as unlikely as guessing a 128-bit key.
 */
const digest = (jti: string): string => createHash('sha256').update(jti).digest().toString('latin1', 0, 16)
