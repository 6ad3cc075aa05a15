import type { JWSHeaderParameters } from 'jose'
import type { KeyLease } from '../keys/lease.js'
import type { AuthInfo } from '../types.js'

/** What the signature (or decryption) stage hands on: claims whose origin is proven, not yet judged. */
export interface Signed {
  header: JWSHeaderParameters
  payload: Record<string, unknown>
  /** Epoch ms until which the key that verified it may be trusted (remote keys), for the token cache. */
  keysUntil: number | undefined
  /** The lease of the key that verified it (for a JWE, of the key that verified the inner JWS). */
  lease: KeyLease
}

/** A verified token, the epoch ms until which its claims stay acceptable, and the lease of the key that verified it. */
export interface Verified<C> {
  auth: AuthInfo<C>
  until: number
  lease: KeyLease
}
