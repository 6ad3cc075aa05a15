import { GuardError } from '../errors.js'

/** A token's `cnf` (RFC 7800) as `AuthInfo` carries it: the confirmation method the guard checks. */
export interface Confirmation {
  /** RFC 9449 §6.1: SHA-256 thumbprint of the DPoP key the token is bound to. */
  jkt?: string
  /** RFC 8705 §3.1: SHA-256 thumbprint of the client certificate the token is bound to (with `mtls`). */
  'x5t#S256'?: string
}

// An RFC 7638 SHA-256 thumbprint in base64url: 43 characters, the last carrying 4 bits (no stray ones).
const SHA256_THUMBPRINT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

const isThumbprint = (value: unknown): boolean => typeof value === 'string' && SHA256_THUMBPRINT.test(value)

/**
 * The confirmation methods a guard can check, with the syntax of their value.
 * Certificate-bound tokens (RFC 8705 `x5t#S256`) only with `mtls`: a guard
 * that reads no client certificate refuses them.
 */
const CHECKABLE: Readonly<Record<string, (value: unknown) => boolean>> = { jkt: isThumbprint }
const CHECKABLE_WITH_MTLS: Readonly<Record<string, (value: unknown) => boolean>> = { ...CHECKABLE, 'x5t#S256': isThumbprint }

// Members named in context for logs; any other name is the token's choice and is not repeated.
const KNOWN_MEMBERS = new Set(['jkt', 'x5t#S256', 'jwk', 'jwe', 'jku', 'kid', 'osc'])

/**
 * The one place a confirmation the guard cannot check is refused: a token bound
 * to something unchecked would otherwise pass as a bearer token.
 */
function unusable(reason: 'cnf_unsupported' | 'cnf_invalid', member?: string): GuardError {
  const message = reason === 'cnf_unsupported' ? 'Token confirmation method not supported' : 'Token confirmation invalid'
  return new GuardError('ERR_JWT_CNF_UNSUPPORTED', message, {
    claim: 'cnf',
    reason,
    ...(member !== undefined && { member: KNOWN_MEMBERS.has(member) ? member : 'unknown' }),
  })
}

/**
 * The `cnf` of the signed claims (kept apart from `payload`, which a schema may
 * reshape): `undefined` when there is none; throws `ERR_JWT_CNF_UNSUPPORTED`
 * for one that is not an object holding exactly one checkable, well-formed method
 * (`mtls`: whether the guard checks client certificates).
 */
export function confirmationOf(payload: Record<string, unknown>, mtls = false): Confirmation | undefined {
  if (!Object.hasOwn(payload, 'cnf')) return undefined
  const cnf = payload.cnf
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) throw unusable('cnf_invalid')
  const members = Object.keys(cnf)
  // RFC 7800 §3.1: `cnf` represents one proof-of-possession key.
  if (members.length !== 1) throw unusable(members.length === 0 ? 'cnf_invalid' : 'cnf_unsupported')
  const member = members[0]!
  const checkable = mtls ? CHECKABLE_WITH_MTLS : CHECKABLE
  const valid = Object.hasOwn(checkable, member) ? checkable[member]! : undefined
  if (!valid) throw unusable('cnf_unsupported', member)
  const value = (cnf as Record<string, unknown>)[member]
  if (!valid(value)) throw unusable('cnf_invalid', member)
  return { [member]: value } as Confirmation
}
