import { compactVerify, errors, type JWSHeaderParameters } from 'jose'
import { GuardError } from '../errors.js'
import type { VerifyKey } from '../keys/sources.js'

/**
 * Verifies a compact JWS against candidate keys (at most a handful, already
 * matched on `kid`, `kty`, curve and `alg`). The first key that verifies wins;
 * only "signature does not verify" moves on to the next key.
 */
export async function verifySignature(token: string, alg: string, keys: readonly VerifyKey[]): Promise<JWSHeaderParameters> {
  let lastError: unknown
  for (const key of keys) {
    try {
      const { protectedHeader } = await compactVerify(token, key, { algorithms: [alg] })
      return protectedHeader
    } catch (err) {
      if (err instanceof errors.JWSSignatureVerificationFailed) {
        lastError = err
        continue
      }
      throw mapJoseError(err)
    }
  }
  throw new GuardError('ERR_JWT_SIGNATURE_INVALID', 'Invalid signature', { reason: 'signature' }, { cause: lastError })
}

function mapJoseError(err: unknown): GuardError {
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new GuardError('ERR_JWT_ALG_NOT_ALLOWED', 'Algorithm not allowed', { reason: 'alg' }, { cause: err })
  if (err instanceof errors.JWSInvalid || err instanceof errors.JOSENotSupported) {
    return new GuardError('ERR_JWT_HEADER_INVALID', 'Invalid token header', { reason: 'jws_invalid' }, { cause: err })
  }
  // A key that does not fit the algorithm (jose throws a TypeError) verifies nothing.
  return new GuardError('ERR_JWT_SIGNATURE_INVALID', 'Invalid signature', { reason: 'key_unusable' }, { cause: err })
}
