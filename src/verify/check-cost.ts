import type { VerifyKeyObjectInput } from 'node:crypto'

/** What a signature check costs, and so whether it may go to the thread pool (used by `schedule.ts`). */

export interface Scheme {
  hash: string | null
  /** Extra key options: PSS padding, IEEE P1363 signatures for ECDSA. */
  key?: Omit<VerifyKeyObjectInput, 'key'>
  /** Exact signature length where the algorithm fixes it (ECDSA r||s, Ed25519). */
  length?: number
  /**
   * What one check itself costs, in ms: the least an inline check of this algorithm took lately. Inside a loaded
   * server most checks take longer (cold CPU caches: RS256 measured at 35–100 µs in a loaded Koa server against
   * 25 µs in a tight loop), which must not make an RSA check look like one worth handing to the pool (a running
   * mean did: the Koa bench server then sent 90% of its RSA checks there). It drifts up by `COST_DRIFT` per check,
   * so that a dearer key (a 4096-bit one) is learnt within a few thousand checks.
   */
  cost: number
}

/** Event-loop time one check costs on the pool (hand-off and completion) while the pool is kept busy (`npm run bench:handoff`). */
const HANDOFF_MS = 0.005
/** How fast `Scheme.cost` forgets a low reading, per check. */
const COST_DRIFT = 1.001
/** Cheap checks (RSA) go to the pool only while a core is about this idle: a core nobody else uses. */
const IDLE_CORE = 0.7
/**
 * At most this share of cheap checks goes to the pool: past it the loop spends more on hand-offs and answers than
 * it saves (RS256 with 32 in flight, 2 cores: 0.6 gave 1.2–1.3x the floor, 0.7 1.1–1.2x, 0.9 1.1x).
 */
const CHEAP_SHARE_MAX = 0.6

/**
 * A check that costs ten hand-offs or more (ECDSA, EdDSA): the hand-off is a small part of it, so whenever checks
 * overlap it goes to the pool, where both cores work on them (ES256 and EdDSA with 32 in flight: 1.2–1.4x the floor;
 * with only a share of them pooled, 1.0–1.2x, since the pool's answers come in one by one and made batches of one).
 */
export const dear = (scheme: Scheme): boolean => scheme.cost >= 10 * HANDOFF_MS

/**
 * The share of overlapping checks that goes to the pool. A dear check: all. A cheaper one (RSA, about 25 µs; HMAC
 * never comes here at all) only while a core is idle (`IDLE_CORE`) and then at most `CHEAP_SHARE_MAX`; otherwise it
 * stays on the event loop but for a flood's overflow. On the pool it costs more CPU in all than the check itself (the
 * pool threads' wake-ups: `npm run bench:handoff`), which an HTTP server whose other core serves its clients pays
 * (measured: Koa 2 without cache, 105–134 µs of CPU per request with RSA shared whenever half a core was idle, 85–90
 * without, in quick runs); a core nobody uses is worth it (RS256 with 32 in flight: 1.2–1.3x the floor, 1.0x inline).
 */
export const poolShareOf = (scheme: Scheme, spare: number, share: number): number =>
  dear(scheme) ? 1 : spare >= IDLE_CORE ? Math.min(share, CHEAP_SHARE_MAX) : 0

/** What one inline check took, in ms (see `Scheme.cost`); never below 1 µs, from which the drift could not climb back. */
export function observe(scheme: Scheme, took: number): void {
  scheme.cost = Math.max(0.001, Math.min(scheme.cost * COST_DRIFT, took))
}
