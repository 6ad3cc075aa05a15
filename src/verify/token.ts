import { GuardError } from '../errors.js'
import { parseToken } from '../intake/token.js'
import { authInfoOf } from './claims.js'
import type { Verified } from './verified.js'
import { verifyJwe } from './jwe.js'
import { verifyJws } from './jws.js'
import type { Settings } from './settings.js'
import type { Trace } from './trace.js'

/** Intake refusals before anything else: a value that is no string or is over `maxTokenLength`. */
export function checkSize<C>(s: Settings<C>, token: string): void {
  if (typeof token !== 'string') throw new GuardError('ERR_JWT_MALFORMED', 'Malformed token', { reason: 'not_a_string' })
  if (token.length > s.maxTokenLength) throw new GuardError('ERR_JWT_TOO_LARGE', 'Token too large', { reason: 'too_large' })
}

/**
 * The whole verification of one token: intake, then the JWS or the JWE path,
 * then `AuthInfo`. Throws synchronously what intake refuses, and gives the
 * answer synchronously when nothing waits (held keys, HMAC, no claims schema).
 */
export function verifyToken<C>(s: Settings<C>, token: string, trace?: Trace): Verified<C> | Promise<Verified<C>> {
  const parsed = parseToken(token, s.maxTokenLength)
  if (trace) {
    trace.passed.add('format')
    trace.header = parsed.header
    trace.payload = parsed.payload
    trace.encrypted = parsed.encrypted
  }
  if (!parsed.encrypted) {
    if (s.decryption?.required) throw new GuardError('ERR_JWE_REQUIRED', 'Encrypted token required', { reason: 'plain_jws' })
    return verifyJws(s, parsed, (jws) => authInfoOf(s, token, jws, false), trace)
  }
  return verifyJwe(s, parsed, trace).then((signed) => authInfoOf(s, token, signed, true))
}
