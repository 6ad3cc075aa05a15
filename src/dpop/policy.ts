import { ASYMMETRIC_ALGORITHMS } from '../keys/algorithms.js'
import { nonceIssuer } from './nonce.js'
import type { DpopOptions } from './options.js'
import type { DpopPolicy } from './proof.js'
import { memoryDpopReplayStore } from './replay.js'

const fail = (member: string, message: string): never => {
  throw new TypeError(`jwtguard: option "dpop.${member}" ${message}`)
}

/** Validates `dpop` once, at construction. */
export function dpopPolicy(options: DpopOptions | true): DpopPolicy {
  const o: DpopOptions = options === true ? {} : options
  if (typeof o !== 'object' || o === null) throw new TypeError('jwtguard: option "dpop" must be an object')
  const algorithms = o.algorithms ?? [...ASYMMETRIC_ALGORITHMS]
  if (!Array.isArray(algorithms) || algorithms.length === 0) fail('algorithms', 'must be a non-empty array')
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.includes(alg as never)) fail('algorithms', `must hold asymmetric JWS algorithms only, not "${String(alg)}"`)
  }
  const proofMaxAge = o.proofMaxAge ?? 60
  if (!Number.isFinite(proofMaxAge) || proofMaxAge <= 0) fail('proofMaxAge', 'must be a positive number of seconds')
  let nonce
  if (o.nonce) {
    const n = o.nonce === true ? {} : o.nonce
    const lifetime = n.lifetime ?? 300
    if (!Number.isFinite(lifetime) || lifetime <= 0) fail('nonce.lifetime', 'must be a positive number of seconds')
    if (n.secret !== undefined && (!(n.secret instanceof Uint8Array) || n.secret.byteLength < 32))
      fail('nonce.secret', 'must be at least 32 bytes')
    nonce = nonceIssuer(n.secret, lifetime)
  }
  if (o.replayStore !== undefined && typeof o.replayStore?.remember !== 'function')
    fail('replayStore', 'must have a remember(jti, ttl) method')
  let origin: string | undefined
  if (o.origin !== undefined) {
    try {
      origin = new URL(o.origin).origin
    } catch {
      fail('origin', "must be an origin such as 'https://api.example.com'")
    }
  }
  return {
    required: o.required ?? false,
    algorithms: new Set(algorithms),
    proofMaxAge,
    nonce,
    replay: o.replayStore ?? memoryDpopReplayStore(),
    origin,
  }
}
