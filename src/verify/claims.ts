import { validateWithSchema } from '../claims/schema.js'
import { confirmationOf } from '../claims/confirmation.js'
import { validateClaims } from '../claims/validate.js'
import { deepFreeze } from '../cache.js'
import type { AuthInfo } from '../types.js'
import type { Settings } from './settings.js'
import { passClaims, type Trace } from './trace.js'
import { stepOf } from '../explain/step.js'
import { GuardError } from '../errors.js'
import type { Signed, Verified } from './verified.js'

/** The claim rules (issuer, audience, times, required and expected claims), at the current second. */
export function checkClaims<C>(s: Settings<C>, payload: Record<string, unknown>, trace?: Trace): void {
  if (!trace) return validateClaims(payload, s.policy, Math.floor(Date.now() / 1000))
  try {
    validateClaims(payload, s.policy, Math.floor(Date.now() / 1000))
    passClaims(trace)
  } catch (err) {
    passClaims(trace, err instanceof GuardError ? stepOf(err) : undefined)
    throw err
  }
}

/**
 * The judged claims become `AuthInfo`. The signed claims are frozen before the
 * schema sees them: what it returns becomes `payload`, and it cannot change the
 * `claims` every decision reads.
 */
export function authInfoOf<C>(s: Settings<C>, token: string, signed: Signed, encrypted: boolean): Verified<C> | Promise<Verified<C>> {
  const claims = deepFreeze(signed.payload)
  if (!s.claimsSchema) return verified(s, token, signed, claims as C, encrypted)
  return validateWithSchema(s.claimsSchema, claims).then((output) => verified(s, token, signed, output, encrypted))
}

function verified<C>(
  s: Settings<C>,
  token: string,
  { header, payload, keysUntil, lease }: Signed,
  output: C,
  encrypted: boolean,
): Verified<C> {
  const auth: AuthInfo<C> = {
    token,
    header,
    payload: output,
    claims: payload,
    scopes: s.scopes(payload),
    roles: s.roles(payload),
    encrypted,
  }
  const cnf = confirmationOf(payload, s.mtls !== undefined)
  if (cnf) auth.cnf = cnf
  return {
    auth,
    // A cached token never outlives the key set that verified it (one no refetch could renew) …
    until: Math.min(validUntil(s, payload), keysUntil ?? Number.POSITIVE_INFINITY),
    // … nor the key's place in it: a key withdrawn by a refetch or `reload()` takes its tokens with it.
    lease,
  }
}

/** Epoch ms until which the verified claims stay acceptable: `exp`, and `iat + maxTokenAge`, with the tolerance. */
function validUntil<C>(s: Settings<C>, payload: Record<string, unknown>): number {
  const { clockTolerance, maxTokenAge } = s.policy
  let until = (payload.exp as number) + clockTolerance
  if (maxTokenAge !== undefined) until = Math.min(until, (payload.iat as number) + maxTokenAge + clockTolerance)
  return until * 1000
}
