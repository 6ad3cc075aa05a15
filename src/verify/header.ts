import type { JWSHeaderParameters } from 'jose'
import { checkIssuer, normalizeTyp, type IssuerPolicy } from '../claims/validate.js'
import { GuardError } from '../errors.js'
import type { Settings } from './settings.js'
import type { Trace } from './trace.js'

/** The `typ` rule, for a JWS header and for the header of an unsigned `dir` JWE alike. */
export function checkTyp<C>(s: Settings<C>, header: Record<string, unknown>): void {
  if (s.typ !== undefined && (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== s.typ)) {
    throw new GuardError('ERR_JWT_TYP_INVALID', 'Unexpected token type', { reason: 'typ' })
  }
}

/**
 * The JWS header and the (unverified) issuer, before any key is touched: the
 * algorithm is one the guard accepts, nothing unknown is critical, and the
 * issuer is one of the list, whose own algorithms include this one. The `iss`
 * only picks whose keys to try; nothing is fetched for an issuer outside the list.
 */
export function checkJwsHeader<C>(
  s: Settings<C>,
  header: JWSHeaderParameters,
  payload: Record<string, unknown>,
  trace?: Trace,
): IssuerPolicy {
  const alg = header.alg!
  if (!s.algorithms.has(alg)) throw new GuardError('ERR_JWT_ALG_NOT_ALLOWED', 'Algorithm not allowed', { reason: 'alg' })
  if (header.kid !== undefined && typeof header.kid !== 'string')
    throw new GuardError('ERR_JWT_HEADER_INVALID', 'Invalid token header', { reason: 'kid' })
  // No JWS extension is understood here: any `crit` must be refused (RFC 7515 §4.1.11), and `b64` (RFC 7797) is never valid in a JWT.
  if (header.crit !== undefined || header.b64 !== undefined) {
    throw new GuardError('ERR_JWT_HEADER_INVALID', 'Invalid token header', { reason: 'crit' })
  }
  trace?.passed.add('header')
  checkTyp(s, header)
  if (s.typ !== undefined) trace?.passed.add('type')
  const issuer = checkIssuer(payload, s.policy.issuers)
  if (trace) {
    trace.passed.add('issuer')
    trace.issuer = issuer
  }
  if (!issuer.algorithms.has(alg)) throw new GuardError('ERR_JWT_ALG_NOT_ALLOWED', 'Algorithm not allowed', { reason: 'alg' })
  trace?.passed.add('algorithm')
  return issuer
}
