import type { JWSHeaderParameters } from 'jose'
import type { ParsedToken } from '../intake/token.js'
import type { Candidate } from '../keys/lease.js'
import { checkClaims } from './claims.js'
import type { Signed } from './verified.js'
import { checkJwsHeader } from './header.js'
import { checkCandidates, keysFor } from './keys.js'
import type { Settings } from './settings.js'
import type { Trace } from './trace.js'
import { verifySignature } from './signature.js'

const keyOf = (candidate: Candidate): Candidate['key'] => candidate.key

/**
 * A JWS: header, keys, signature, claims; the same for a plain token and for
 * the inside of a JWE. Header checks throw synchronously; `then` runs on the
 * verified result in the same step as the claim checks (one promise hop less
 * per token). With held keys and an HMAC signature nothing waits: the result
 * (or the refusal) comes synchronously.
 */
export function verifyJws<C, T>(
  s: Settings<C>,
  parsed: ParsedToken,
  then: (result: Signed) => T | Promise<T>,
  trace?: Trace,
): T | Promise<T> {
  const header = parsed.header as JWSHeaderParameters
  const payload = parsed.payload!
  if (trace) {
    trace.header = header
    trace.payload = payload
  }
  const issuer = checkJwsHeader(s, header, payload, trace)
  const signed = (candidates: readonly Candidate[]): T | Promise<T> => {
    checkCandidates(candidates)
    trace?.passed.add('key')
    const judged = (i: number): T | Promise<T> => {
      trace?.passed.add('signature')
      checkClaims(s, payload, trace)
      return then({ header, payload, keysUntil: s.keys.keysValidUntil?.(issuer), lease: candidates[i]!.lease })
    }
    const verified = verifySignature(parsed.raw, header.alg!, candidates.map(keyOf), parsed.signature)
    return typeof verified === 'number' ? judged(verified) : verified.then(judged)
  }
  const resolved = keysFor(s, header, issuer, parsed.raw)
  return Array.isArray(resolved) ? signed(resolved) : resolved.then(signed)
}
