import { ASYMMETRIC_ALGORITHMS } from '../keys/algorithms.js'
import { nonceIssuer } from './nonce.js'
import type { DpopOptions } from './options.js'
import type { DpopPolicy } from './proof.js'
import { memoryDpopReplayStore } from './replay.js'
import { optionError } from '../option-error.js'

const fail = (member: string, message: string): never => {
  throw optionError(`dpop.${member}`, message)
}

/** Validates `dpop` once, at construction. */
export function dpopPolicy(options: DpopOptions | true): DpopPolicy {
  const o: DpopOptions = options === true ? {} : options
  if (typeof o !== 'object' || o === null) throw optionError('dpop', 'must be true or an object', { given: o })
  const algorithms = o.algorithms ?? [...ASYMMETRIC_ALGORITHMS]
  if (!Array.isArray(algorithms) || algorithms.length === 0) fail('algorithms', 'must be a non-empty array')
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.includes(alg as never)) fail('algorithms', `must hold asymmetric JWS algorithms only, not "${String(alg)}"`)
  }
  const proofMaxAge = o.proofMaxAge ?? 60
  if (!Number.isFinite(proofMaxAge) || proofMaxAge <= 0)
    throw optionError('dpop.proofMaxAge', 'must be a positive number of seconds', { given: proofMaxAge })
  let nonce
  if (o.nonce) {
    const n = o.nonce === true ? {} : o.nonce
    const lifetime = n.lifetime ?? 300
    if (!Number.isFinite(lifetime) || lifetime <= 0)
      throw optionError('dpop.nonce.lifetime', 'must be a positive number of seconds', { given: lifetime })
    if (n.secret !== undefined && (!(n.secret instanceof Uint8Array) || n.secret.byteLength < 32))
      fail('nonce.secret', 'must be at least 32 bytes')
    nonce = nonceIssuer(n.secret, lifetime)
  }
  if (o.replayStore !== undefined && typeof o.replayStore?.remember !== 'function')
    fail('replayStore', 'must have a remember(jti, ttl) method')
  const origins = o.origin === undefined ? undefined : originsOf(o.origin)
  return {
    required: o.required ?? false,
    algorithms: new Set(algorithms),
    proofMaxAge,
    nonce,
    replay: o.replayStore ?? memoryDpopReplayStore(),
    origins,
  }
}

/** `dpop.origin`: one origin or a non-empty list, each `http(s)://host[:port]` with no path, query or credentials. */
function originsOf(value: unknown): ReadonlySet<string> {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0)
    return fail('origin', "must be an origin such as 'https://api.example.com', or a list of them")
  const origins = new Set<string>()
  for (const entry of list) {
    let url: URL | undefined
    try {
      url = typeof entry === 'string' ? new URL(entry) : undefined
    } catch {
      url = undefined
    }
    const bare = url && (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password
    if (!url || !bare || url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[?#]$/.test(entry as string))
      fail('origin', `must hold origins such as 'https://api.example.com' (scheme and host only), not ${JSON.stringify(String(entry))}`)
    else origins.add(url.origin)
  }
  return origins
}
