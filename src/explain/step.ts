import { ERROR_TABLE, type ExplainCheck } from '../error-table.js'
import type { GuardError } from '../errors.js'

/** The check a failure belongs to: the table's, refined where the error says which claim or callback. */
export function stepOf(err: GuardError): ExplainCheck {
  const { claim, callback } = err.context
  if (err.code === 'ERR_JWT_CLAIM_MISSING' || err.code === 'ERR_JWT_CLAIM_INVALID')
    return claim === 'exp' ? 'expiry' : claim === 'nbf' ? 'not-before' : claim === 'iat' ? 'issued-at' : 'claims'
  if (err.code === 'ERR_CALLBACK_FAILED')
    return callback === 'getKey' ? 'key' : callback === 'isRevoked' || callback === 'revocation' ? 'revocation' : 'claims'
  return ERROR_TABLE[err.code].step
}
