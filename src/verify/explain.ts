import { checkBinding, checkProof } from '../dpop/binding.js'
import { GuardError } from '../errors.js'
import { checkTokenSyntax, locateToken, tokenSyntaxError, type GuardRequest } from '../intake/request.js'
import type { AuthInfo } from '../types.js'
import { checkRevocation } from './revocation.js'
import type { Settings } from './settings.js'
import { checkSize, verifyToken } from './token.js'
import type { Trace } from './trace.js'

/**
 * `verify`'s stages for `guard.explain(token)`, with a trace: never the cache
 * (a cached token would show no check), and no events, since nothing is answered.
 */
export async function traceToken<C>(s: Settings<C>, token: string, trace: Trace, bindingCheckedElsewhere = false): Promise<AuthInfo<C>> {
  trace.token = token
  checkSize(s, token)
  const { auth } = await verifyToken(s, token, trace)
  // No proof comes with a bare token, as in `verify`: a bound token is refused unless its binding is checked elsewhere
  // (then the binding step did not run, and is not reported passed).
  if (!bindingCheckedElsewhere || auth.cnf === undefined) {
    checkBinding(undefined, undefined, auth, s.mtls)
    trace.passed.add('binding')
  }
  if (s.revocable) {
    await checkRevocation(s, auth)
    trace.passed.add('revocation')
  }
  return auth
}

/**
 * `authenticate`'s stages for `guard.explain(request)`, with a trace. The DPoP
 * proof is checked but not recorded as used: explaining a request must not
 * make the request itself a replay.
 */
export async function traceRequest<C>(s: Settings<C>, request: GuardRequest, trace: Trace): Promise<AuthInfo<C> | undefined> {
  const found = locateToken(request, s.sources, s.schemes)
  if (!found) {
    if (s.authRequired) throw new GuardError('ERR_JWT_MISSING', 'Authentication required')
    return undefined
  }
  trace.token = found.token
  trace.passed.add('request')
  try {
    if (s.dpop) checkTokenSyntax(found)
    const proof = s.dpop ? await checkProof(s.dpop, request, found) : undefined
    if (proof) trace.passed.add('dpop-proof')
    checkSize(s, found.token)
    const { auth } = await verifyToken(s, found.token, trace)
    checkBinding(found.scheme, proof, auth, s.mtls, request)
    trace.passed.add('binding')
    if (s.revocable) {
      await checkRevocation(s, auth)
      trace.passed.add('revocation')
    }
    return auth
  } catch (err) {
    // As `authenticate` refuses: credentials outside RFC 6750's characters are a 400 whatever else failed.
    throw tokenSyntaxError(found) ?? err
  }
}
