import type { JWSHeaderParameters } from 'jose'
import { GuardError } from '../errors.js'
import { parseToken, type ParsedToken } from '../intake/token.js'
import { checkReplicatedClaims, decryptToken } from '../jwe/decrypt.js'
import { HELD } from '../keys/lease.js'
import { checkClaims } from './claims.js'
import type { Signed } from './verified.js'
import { checkTyp } from './header.js'
import { verifyJws } from './jws.js'
import type { Settings } from './settings.js'
import type { Trace } from './trace.js'

/**
 * A JWE: decryption, then the JWS inside it (nested) or, for an unsigned `dir`
 * JWE where allowed, its claims judged directly; the replicated header claims last.
 */
export async function verifyJwe<C>(s: Settings<C>, parsed: ParsedToken, trace?: Trace): Promise<Signed> {
  if (!s.decryption) throw new GuardError('ERR_JWE_NOT_SUPPORTED', 'Encrypted tokens are not accepted', { reason: 'jwe' })
  const inner = await decryptToken(parsed, s.decryption)
  trace?.passed.add('decryption')
  let verified: Signed
  if (inner.kind === 'nested') {
    verified = await verifyJws(s, parseToken(inner.jws, s.maxTokenLength), (result) => result, trace)
  } else {
    // Unsigned claims (allowed only with symmetric key management): the JWE header stands in for the JWS one.
    if (trace) trace.payload = inner.payload
    checkTyp(s, parsed.header)
    if (s.typ !== undefined) trace?.passed.add('type')
    checkClaims(s, inner.payload, trace)
    // Its only key is a decryption key, given in the options: it cannot be withdrawn.
    verified = { header: parsed.header as JWSHeaderParameters, payload: inner.payload, keysUntil: undefined, lease: HELD }
  }
  checkReplicatedClaims(parsed.header, verified.payload)
  return verified
}
