import { isThenable } from './callbacks.js'
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
  /** A deny-list holds `max` live entries and refused a new one (it never forgets an entry before it expires). */
  | { type: 'store_full'; store: 'revocation_jti' | 'revocation_subject' | 'dpop_replay'; max: number }
  /** Redis came back empty: `restored` when a replicated instance wrote its deny-list back, else 503 until `acknowledgeReset()`. */
  | { type: 'revocation_store_reset'; restored: boolean }

/** Observability. */
export interface GuardEventOptions {
  /**
   * Observability hook; may be async. Never receives a token. What it throws or rejects changes no answer
   * and is reported once per guard as a process warning (`JWTGUARD_ON_EVENT_FAILED`).
   */
  onEvent?: (event: GuardEvent) => void
}

export type EventSink = (event: GuardEvent) => void

/** A failure in words for one warning line: never more than 200 characters, no control characters. */
function describe(err: unknown): string {
  let text: string
  try {
    text = err instanceof Error ? `${err.name}: ${err.message}` : typeof err
  } catch {
    text = 'an error'
  }
  // eslint-disable-next-line no-control-regex
  const controls = /[\u0000-\u001f\u007f-\u009f]/g
  return String(text).replace(controls, ' ').slice(0, 200)
}

/**
 * Wraps a user hook so that nothing it throws or rejects reaches a request or
 * the process: the event is dropped, the answer stays what it was, and the
 * first failure of each guard is reported once, as a process warning.
 */
export function eventSink(hook: ((event: GuardEvent) => unknown) | undefined): EventSink | undefined {
  if (!hook) return undefined
  let warned = false
  const failed = (err: unknown): void => {
    if (warned) return
    warned = true
    try {
      process.emitWarning(`jwtguard: onEvent failed (${describe(err)}); its failures are ignored and reported once per guard`, {
        code: 'JWTGUARD_ON_EVENT_FAILED',
      })
    } catch {
      // Warnings thrown as errors (--throw-deprecation and the like) must not reach a request either.
    }
  }
  return (event) => {
    try {
      const result = hook(event)
      // An async hook: its rejection is handled here, never left unhandled (which ends the process).
      if (isThenable(result)) result.then(undefined, failed)
    } catch (err) {
      failed(err)
    }
  }
}
