import { GuardError, type GuardErrorCode } from './errors.js'

/** The user callbacks the guard calls, as `err.context.callback` names the one that failed. */
export type CallbackName =
  'tokenFrom' | 'getKey' | 'isRevoked' | 'revocation' | 'claimsSchema' | 'scopeClaim' | 'rolesClaim' | 'requireClaims' | 'dpop.replayStore'

// RFC 6750 §3 `error_description` characters: a message outside them never reaches a challenge.
const DESCRIPTION = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,200}$/

/**
 * The status an error asks for explicitly: an `http-errors` error (or any
 * error with a numeric `status` / `statusCode`) from 400 to 599. Reading a
 * hostile object (a throwing getter, a proxy) gives `undefined`.
 */
export function explicitStatus(err: unknown): number | undefined {
  try {
    if (typeof err !== 'object' || err === null) return undefined
    const { status, statusCode } = err as { status?: unknown; statusCode?: unknown }
    const value = status ?? statusCode
    return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599 ? value : undefined
  } catch {
    return undefined
  }
}

/** The message a client may see for an error with an explicit status: its own when it says it may be shown, else a fixed one. */
function exposedMessage(err: object, status: number): string {
  try {
    const { expose, message } = err as { expose?: unknown; message?: unknown }
    if (status < 500 && expose === true && typeof message === 'string' && DESCRIPTION.test(message)) return message
  } catch {
    // A throwing getter: the fixed message below.
  }
  return status < 500 ? 'Request refused' : 'Internal server error'
}

/** A `GuardError` answering with the status an error thrown by a callback asked for (`ERR_CALLBACK_FAILED`, `cause` kept). */
export function withExplicitStatus(err: object, status: number, callback: CallbackName | undefined): GuardError {
  const context = callback === undefined ? { reason: 'explicit_status' } : { callback, reason: 'explicit_status' }
  return new GuardError('ERR_CALLBACK_FAILED', exposedMessage(err, status), context, { cause: err, status })
}

/**
 * What a user callback's failure becomes: a `GuardError` it threw as is; an
 * error with an explicit HTTP status (400–599) that status; anything else
 * `code` (a server fault: 500 `ERR_CALLBACK_FAILED` unless the callback
 * stands for a service that may be down) with a fixed message. The callback's
 * own error stays on `cause`, never in the message a client sees.
 */
export function callbackError(
  err: unknown,
  callback: CallbackName,
  code: GuardErrorCode = 'ERR_CALLBACK_FAILED',
  message = 'Internal server error',
  reason = 'callback_failed',
): GuardError {
  if (err instanceof GuardError) return err
  const status = explicitStatus(err)
  if (status !== undefined) return withExplicitStatus(err as object, status, callback)
  return new GuardError(code, message, { callback, reason }, { cause: err })
}

/** Whether a callback returned a promise (or any thenable) where it must answer synchronously. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
  )
}

const ignore = (): void => {}

/**
 * Refuses a promise a synchronous callback returned: its rejection, if any,
 * is handled here (never an unhandled rejection), and the error says what to fix.
 */
export function promiseReturned(value: PromiseLike<unknown>, callback: CallbackName): GuardError {
  try {
    value.then(undefined, ignore)
  } catch {
    // A thenable whose `then` throws has nothing left to handle.
  }
  return callbackError(new TypeError(`jwtguard: ${callback} returned a promise; it must answer synchronously`), callback)
}
