import { GuardError } from '../errors.js'
import { checkHost, headerCount, originFormTarget, type ExtractedToken, type GuardRequest } from '../intake/request.js'
import { listenerOrigins } from './listener.js'
import type { AuthInfo } from '../types.js'
import { checkCertificateBinding } from '../mtls/certificate.js'
import type { MtlsPolicy } from '../mtls/policy.js'
import { invalidProof, verifyProof, type CheckedProof, type DpopPolicy } from './proof.js'

function singleProof(request: GuardRequest): string {
  const value = request.headers.dpop
  if (Array.isArray(value) || headerCount(request, 'dpop') > 1) throw invalidProof('multiple_proofs')
  if (typeof value !== 'string' || value === '') throw invalidProof('missing', 'DPoP proof required')
  return value
}

/** Before the token is verified: a DPoP request's proof must hold; a Bearer one must be allowed at all. */
export async function checkProof(
  policy: DpopPolicy | undefined,
  request: GuardRequest,
  found: ExtractedToken,
): Promise<CheckedProof | undefined> {
  if (!policy) return undefined
  if (found.scheme !== 'DPoP') {
    if (policy.required) throw new GuardError('ERR_DPOP_BINDING_INVALID', 'DPoP-bound token required', { reason: 'bearer_refused' })
    return undefined
  }
  checkHost(request)
  const target = originFormTarget(request)
  return verifyProof(policy, {
    proof: singleProof(request),
    method: request.method ?? 'GET',
    // `htu` names `dpop.origin`, or else the address this connection reached: never what a header says.
    origins: policy.origins ?? listenerOrigins(request.connection),
    listener: policy.origins === undefined,
    target,
    accessToken: found.token,
  })
}

/**
 * After the token is verified, on every request: RFC 9449 §7.1. A token bound to a key (`cnf.jkt`)
 * is accepted only with a proof by that key, never as a bearer token (a
 * `scheme` other than `DPoP`: `Bearer`, a cookie, or `guard.verify`). A token bound to a
 * client certificate (`cnf["x5t#S256"]`, only with `mtls`) only with that certificate (RFC 8705 §3).
 */
export function checkBinding(
  scheme: ExtractedToken['scheme'],
  proof: CheckedProof | undefined,
  auth: AuthInfo<unknown>,
  mtls?: MtlsPolicy,
  request?: GuardRequest,
): void {
  const jkt = auth.cnf?.jkt
  if (scheme === 'DPoP') {
    if (jkt === undefined || jkt !== proof?.jkt)
      throw new GuardError('ERR_DPOP_BINDING_INVALID', 'Token not bound to the DPoP key', { reason: 'jkt_mismatch' })
  } else if (jkt !== undefined) {
    throw new GuardError('ERR_DPOP_BINDING_INVALID', 'DPoP-bound token sent as Bearer', { reason: 'bound_as_bearer' })
  }
  const x5t = auth.cnf?.['x5t#S256']
  if (x5t !== undefined) checkCertificateBinding(mtls, request, x5t)
}
