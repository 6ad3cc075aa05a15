import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { callbackError } from '../callbacks.js'
import { GuardError } from '../errors.js'
import type { EventSink } from '../events.js'
import { decodeJsonSegment } from '../intake/token.js'
import { keyShapeFor } from '../keys/algorithms.js'
import { unusableReason } from '../keys/jwk.js'
import { verifySignature } from '../verify/signature.js'
import type { NonceIssuer } from './nonce.js'
import type { DpopReplayStore } from './replay.js'
import { jwkThumbprint } from './thumbprint.js'

export interface DpopPolicy {
  required: boolean
  algorithms: ReadonlySet<string>
  proofMaxAge: number
  nonce: NonceIssuer | undefined
  replay: DpopReplayStore
  /** `dpop.origin`, normalised; `undefined`: the listening address stands in (local development). */
  origins: ReadonlySet<string> | undefined
}

/** What the proof is checked against: the request as received and the access token it accompanies. */
export interface ProofRequest {
  proof: string
  method: string
  /** The origins `htu` may name: `dpop.origin`, or the address the server listens on; never from the request's headers. */
  origins: ReadonlySet<string>
  /** `true` when `origins` is the listening address because `dpop.origin` is not set: a refusal then says so. */
  listener: boolean
  /** The request's origin-form target (`/orders?x=1`): only its path is compared. */
  target: string
  accessToken: string
}

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
/** Proofs are small: a header with a public key, a few claims, a signature. */
const MAX_PROOF_LENGTH = 4096

// Proofs are the client's own doing, not secrets: saying which check failed helps and leaks nothing.
const MESSAGES: Record<string, string> = {
  typ: 'DPoP proof typ must be dpop+jwt',
  alg: 'DPoP proof algorithm not allowed',
  jwk: 'DPoP proof key invalid',
  signature: 'DPoP proof signature invalid',
  jti: 'DPoP proof jti missing',
  htm: 'DPoP proof htm mismatch',
  htu: 'DPoP proof htu mismatch',
  iat: 'DPoP proof iat outside the accepted window',
  ath: 'DPoP proof ath mismatch',
  replay: 'DPoP proof replayed',
  multiple_proofs: 'More than one DPoP proof',
  crit: 'DPoP proof uses an unsupported extension',
}

export const invalidProof = (reason: string, message = MESSAGES[reason] ?? 'Invalid DPoP proof'): GuardError =>
  new GuardError('ERR_DPOP_PROOF_INVALID', message, { reason })

/**
 * RFC 9449 §4.3: `htu`, without query and fragment and after RFC 3986
 * normalisation, names one of `origins` and the request's path; what differs
 * if not. The path is parsed behind a fixed origin, so nothing in it can stand
 * for an authority.
 */
function htuMismatch(htu: unknown, request: ProofRequest): 'origin' | 'path' | undefined {
  if (typeof htu !== 'string') return 'path'
  let claimed: URL
  let path: string
  try {
    claimed = new URL(htu)
    path = new URL(`http://localhost${request.target}`).pathname
  } catch {
    return 'path'
  }
  if (claimed.username !== '' || claimed.password !== '' || !request.origins.has(claimed.origin)) return 'origin'
  return claimed.pathname === path ? undefined : 'path'
}

/** A proof that passed every check but the replay one: its key's thumbprint, and the key to remember it by. */
export interface CheckedProof {
  jkt: string
  replayKey: string
}

/**
 * Checks a DPoP proof (RFC 9449 §4.3) except for replay: the `jti` is recorded
 * (`rememberProof`) only once the token is verified and bound to this key, so
 * nobody can fill the replay store with proofs for tokens they do not hold.
 */
export async function verifyProof(policy: DpopPolicy, request: ProofRequest): Promise<CheckedProof> {
  const { proof } = request
  if (proof.length > MAX_PROOF_LENGTH || !COMPACT.test(proof)) throw invalidProof('malformed')
  const [head, body] = proof.split('.') as [string, string, string]
  let header: Record<string, unknown>
  let claims: Record<string, unknown>
  try {
    header = decodeJsonSegment(head, 'header')
    claims = decodeJsonSegment(body, 'payload')
  } catch {
    throw invalidProof('malformed')
  }
  if (header.typ !== 'dpop+jwt') throw invalidProof('typ')
  // RFC 7515 §4.1.11: no JWS extension is understood here.
  if (header.crit !== undefined || header.b64 !== undefined) throw invalidProof('crit')
  const alg = header.alg
  if (typeof alg !== 'string' || !policy.algorithms.has(alg)) throw invalidProof('alg')
  const jwk = header.jwk
  // The key must be a public asymmetric key of the algorithm's type: no private members, no `oct`.
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk) || unusableReason(jwk) !== undefined) throw invalidProof('jwk')
  const shape = keyShapeFor(alg)
  const k = jwk as Record<string, unknown>
  if (!shape || shape.kty !== k.kty || (shape.crv !== undefined && shape.crv !== k.crv)) throw invalidProof('jwk')
  let key: KeyObject
  try {
    key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
  } catch {
    throw invalidProof('jwk')
  }
  try {
    await verifySignature(proof, alg, [key])
  } catch {
    throw invalidProof('signature')
  }

  if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > 256) throw invalidProof('jti')
  if (claims.htm !== request.method) throw invalidProof('htm')
  const mismatch = htuMismatch(claims.htu, request)
  // Without `dpop.origin`, an origin other than the listening address is what a proxy or a DNS name gives: say what to set.
  if (mismatch === 'origin' && request.listener) throw invalidProof('htu', 'DPoP proof htu is not the listening address; set dpop.origin')
  if (mismatch) throw invalidProof('htu')
  const now = Math.floor(Date.now() / 1000)
  if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat) || Math.abs(now - claims.iat) > policy.proofMaxAge) {
    throw invalidProof('iat')
  }
  const ath = createHash('sha256').update(request.accessToken, 'latin1').digest('base64url')
  if (claims.ath !== ath) throw invalidProof('ath')
  if (policy.nonce && !policy.nonce.isValid(claims.nonce)) {
    throw new GuardError('ERR_DPOP_NONCE_REQUIRED', 'DPoP nonce required', {
      reason: claims.nonce === undefined ? 'nonce_missing' : 'nonce_invalid',
    })
  }
  const jkt = jwkThumbprint(k)
  if (!jkt) throw invalidProof('jwk')
  return { jkt, replayKey: `${jkt}:${claims.jti}` }
}

/**
 * Replay: a proof is single-use for as long as its `iat` could be accepted
 * (`proofMaxAge` either side of now, hence `2 × proofMaxAge + 1` seconds). A store
 * that cannot record it (full, or failing) refuses the proof, fail closed.
 */
export async function rememberProof(policy: DpopPolicy, proof: CheckedProof, emit: EventSink | undefined): Promise<void> {
  let fresh: unknown
  try {
    fresh = await policy.replay.remember(proof.replayKey, policy.proofMaxAge * 2 + 1, { emit })
  } catch (err) {
    // A store that cannot answer cannot rule a replay out: 503, fail closed, never the client's fault.
    throw callbackError(err, 'dpop.replayStore', 'ERR_DPOP_REPLAY_UNAVAILABLE', 'DPoP replay check unavailable', 'store_failed')
  }
  if (!fresh) throw invalidProof('replay')
}
