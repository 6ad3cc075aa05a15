import { callbackError } from '../callbacks.js'
import { GuardError } from '../errors.js'
import type { AuthInfo } from '../types.js'
import type { Settings } from './settings.js'

/**
 * Runs on every request, cached token or not: a revocation takes effect at
 * once. A check that throws or rejects (sync or async) is a 503: the token may
 * be fine, and a revoked one must not pass (unless it threw a status of its own).
 */
export async function checkRevocation<C>(s: Settings<C>, auth: AuthInfo<C>): Promise<void> {
  const { isRevoked, revocation } = s
  let asking: 'isRevoked' | 'revocation' = 'isRevoked'
  let revoked: boolean
  try {
    // Any truthy answer revokes, as in express-jwt: a ported hook returning a row or 1 must not let tokens through.
    revoked = isRevoked !== undefined && Boolean(await isRevoked(auth))
    asking = 'revocation'
    if (!revoked && revocation !== undefined) revoked = Boolean(await revocation.isRevoked(auth as AuthInfo<unknown>, s.revocationContext))
  } catch (err) {
    const error = callbackError(err, asking, 'ERR_REVOCATION_UNAVAILABLE', 'Revocation service unavailable', 'check_threw')
    if (error !== err && error.code === 'ERR_REVOCATION_UNAVAILABLE')
      s.emit?.({ type: 'revocation_unavailable', reason: 'check_threw', failOpen: false })
    throw error
  }
  if (revoked) throw new GuardError('ERR_JWT_REVOKED', 'Token revoked', { reason: 'revoked' })
}
