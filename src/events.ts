import type { GuardErrorCode } from './errors.js'

/** Events passed to `onEvent`. None carries a token or key material. */
export type GuardEvent =
  | { type: 'jwks_fetched'; source: string; durationMs: number; keyCount: number }
  | { type: 'jwks_fetch_failed'; source: string; durationMs: number; reason: string; code: GuardErrorCode }
  | { type: 'jwks_stale_served'; source: string; ageMs: number }
  | { type: 'jwks_cooldown'; source: string; reason: 'unknown_kid' | 'backoff' }
  | { type: 'jwks_key_dropped'; source: string; kid: string | undefined; reason: string }
  | { type: 'discovery_fetched'; issuer: string; jwksUri: string; durationMs: number }
  | { type: 'discovery_failed'; issuer: string; reason: string }
  | { type: 'cache_hit' }
  | { type: 'token_rejected'; code: GuardErrorCode; reason: string | undefined }
  | { type: 'revocation_unavailable'; reason: string; failOpen: boolean }
  /** Redis came back empty: `restored` when a replicated instance wrote its deny-list back, else 503 until `acknowledgeReset()`. */
  | { type: 'revocation_store_reset'; restored: boolean }

export type EventSink = (event: GuardEvent) => void

/** Wraps a user hook so that nothing it throws reaches a request. */
export function eventSink(hook: ((event: GuardEvent) => void) | undefined): EventSink | undefined {
  if (!hook) return undefined
  return (event) => {
    try {
      hook(event)
    } catch {
      // An observability hook must never break authentication.
    }
  }
}
