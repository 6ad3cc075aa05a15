import type { IssuerPolicy } from '../claims/validate.js'
import { optionError } from '../option-error.js'
import { ASYMMETRIC_ALGORITHMS, ALL_ALGORITHMS, HMAC_ALGORITHMS, HMAC_MIN_BYTES, isHmac } from './algorithms.js'
import type { KeySource } from './choice.js'
import type { JwsAlgorithm } from './options.js'
import type { KeyResolver } from './sources.js'

/**
 * Fills each issuer's set of accepted algorithms, once the key source is built: the issuer's own
 * `algorithms` (`own[i]`), else the guard's, else what the source can verify. Each list is checked
 * against the source (no `none`, no mixing, no algorithm confusion, secrets long enough). Returns the union.
 */
export function fillAlgorithms(
  source: KeySource,
  keys: KeyResolver,
  guard: readonly JwsAlgorithm[] | undefined,
  issuers: readonly IssuerPolicy[],
  own: readonly (readonly JwsAlgorithm[] | undefined)[],
): JwsAlgorithm[] {
  const all = new Set<JwsAlgorithm>()
  issuers.forEach((policy, i) => {
    for (const alg of allowed(source, keys, own[i] ?? guard, own[i] ? `issuer[${i}].algorithms` : 'algorithms')) {
      policy.algorithms.add(alg)
      all.add(alg)
    }
  })
  return [...all]
}

/**
 * The HMAC algorithms every secret is long enough for (RFC 7518 §3.2), or the failure naming the
 * shortest one (`secret[1]` when several are given).
 */
function checkSecrets(source: KeySource, sizes: readonly number[], algs: readonly JwsAlgorithm[]): void {
  const shortest = sizes.indexOf(Math.min(...sizes))
  const name = source.kind === 'secret' && Array.isArray(source.value) ? `secret[${shortest}]` : 'secret'
  for (const alg of algs) {
    const need = HMAC_MIN_BYTES[alg]!
    if (sizes[shortest]! < need) throw optionError(name, `is ${sizes[shortest]} bytes: ${alg} needs at least ${need}`)
  }
}

function allowed(source: KeySource, keys: KeyResolver, given: readonly JwsAlgorithm[] | undefined, option: string): JwsAlgorithm[] {
  const sizes = keys.secretSizes ?? []
  if (given === undefined) {
    if (keys.isSymmetric) {
      const fitting = HMAC_ALGORITHMS.filter((a) => sizes.every((size) => size >= HMAC_MIN_BYTES[a]!))
      if (fitting.length === 0) checkSecrets(source, sizes, ['HS256'])
      return [...fitting]
    }
    return [...(keys.inferredAlgorithms ?? ASYMMETRIC_ALGORITHMS)] as JwsAlgorithm[]
  }
  if (!Array.isArray(given) || given.length === 0) throw optionError(option, 'must be a non-empty array')
  for (const alg of given) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none')
      throw optionError(option, 'must not contain "none": unsigned tokens are never accepted')
    if (!ALL_ALGORITHMS.has(alg)) throw optionError(option, `contains an unsupported algorithm "${String(alg)}"`)
  }
  const hmac = given.filter(isHmac)
  if (hmac.length > 0 && hmac.length < given.length) throw optionError(option, 'must not mix HMAC (HS*) and public-key algorithms')
  if (hmac.length > 0 && !keys.isSymmetric && source.kind !== 'getKey') {
    throw optionError(option, 'has HMAC algorithms but the key source is a public key: that is algorithm confusion')
  }
  if (hmac.length === 0 && keys.isSymmetric) throw optionError(option, 'has public-key algorithms but the key source is a "secret"')
  if (keys.isSymmetric) checkSecrets(source, sizes, hmac)
  if (keys.inferredAlgorithms) {
    const unusable = given.filter((a) => !keys.inferredAlgorithms!.includes(a))
    if (unusable.length > 0) throw optionError(option, `contains ${unusable.join(', ')}, which the "publicKey" cannot verify`)
  }
  return [...given]
}
