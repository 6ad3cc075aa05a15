import type { JWSHeaderParameters } from 'jose'
import type { IssuerPolicy } from '../claims/validate.js'
import { GuardError } from '../errors.js'
import type { Candidate } from '../keys/lease.js'
import type { Settings } from './settings.js'

/**
 * The keys that may verify a token of `issuer`: held keys come back
 * synchronously (no promise until the signature check), remote ones once fetched.
 */
export function keysFor<C>(
  s: Settings<C>,
  header: JWSHeaderParameters,
  issuer: IssuerPolicy,
  raw: string,
): Candidate[] | Promise<Candidate[]> {
  return s.keys.resolve(header, issuer, raw)
}

/** None of the source's keys fits the token's `kid` and algorithm. */
export function checkCandidates(candidates: readonly Candidate[]): void {
  if (candidates.length === 0) throw new GuardError('ERR_JWKS_NO_MATCHING_KEY', 'No matching key', { reason: 'no_key' })
}
