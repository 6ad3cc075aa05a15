import type { CacheOptions } from './cache.js'
import type { DpopOptions } from './dpop/options.js'
import type { ResourceMetadataOptions } from './http/metadata.js'
import type { DecryptionOptions } from './jwe/options.js'
import type { GuardOptions, IssuerOptions, JwksCacheOptions } from './options.js'
import { optionError } from './option-error.js'

// Every option name, checked against the option types at compile time: a new option that is not
// listed here does not compile, so "unknown option" can never refuse a real one.
const names = <T>(known: Record<keyof T, true>): readonly string[] => Object.keys(known)

const GUARD = names<GuardOptions<unknown>>({
  issuer: true,
  audience: true,
  jwksUri: true,
  jwks: true,
  publicKey: true,
  secret: true,
  getKey: true,
  algorithms: true,
  typ: true,
  clockTolerance: true,
  maxTokenAge: true,
  audienceClaim: true,
  jtiClaim: true,
  expectedClaims: true,
  requiredClaims: true,
  claimsSchema: true,
  authRequired: true,
  tokenFrom: true,
  isRevoked: true,
  revocation: true,
  scopeClaim: true,
  rolesClaim: true,
  claimVariables: true,
  realm: true,
  onEvent: true,
  jwksCache: true,
  decryption: true,
  cache: true,
  dpop: true,
  mtls: true,
  resourceMetadata: true,
  maxTokenLength: true,
})

/** Options whose value, when a plain object, has members of its own to check. */
const NESTED: Record<string, readonly string[]> = {
  jwksCache: names<JwksCacheOptions>({
    cacheMaxAge: true,
    cooldownDuration: true,
    timeoutDuration: true,
    staleIfError: true,
    maxResponseSize: true,
  }),
  decryption: names<DecryptionOptions>({
    keys: true,
    keyManagementAlgorithms: true,
    contentEncryptionAlgorithms: true,
    required: true,
    allowUnsigned: true,
  }),
  dpop: names<DpopOptions>({ required: true, algorithms: true, proofMaxAge: true, nonce: true, replayStore: true, origin: true }),
  'dpop.nonce': names<Exclude<DpopOptions['nonce'], boolean | undefined>>({ secret: true, lifetime: true }),
  cache: names<CacheOptions>({ max: true, ttl: true }),
  resourceMetadata: names<ResourceMetadataOptions>({
    resource: true,
    authorizationServers: true,
    scopesSupported: true,
    resourceName: true,
    resourceDocumentation: true,
    resourcePolicyUri: true,
    resourceTosUri: true,
    extra: true,
  }),
  'issuer[]': names<IssuerOptions>({ issuer: true, jwksUri: true, audience: true, algorithms: true }),
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)

/** Edit distance with transpositions (optimal string alignment), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/** The known name closest to `name`: same letters in another case, a prefix, or a few edits away. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  const exactCase = known.find((k) => k.toLowerCase() === lower)
  if (exactCase) return exactCase
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const k of known) {
    const d = distance(lower, k.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [k, d]
  }
  return best ?? longestSharedPrefix(lower, known)
}

/** `scopes` → `scopeClaim`, `maxSize` → `max`: a known name sharing most of the start of `name`. */
function longestSharedPrefix(lower: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestLength = Math.max(3, Math.ceil(lower.length * 0.4)) - 1
  for (const k of known) {
    const kl = k.toLowerCase()
    let n = 0
    while (n < kl.length && n < lower.length && kl[n] === lower[n]) n++
    if (n > bestLength && (n === kl.length || n >= Math.min(lower.length - 1, 5))) [best, bestLength] = [k, n]
  }
  return best
}

function unknown(option: string, member: string | undefined, name: string, known: readonly string[]): never {
  const guess = closestName(name, known)
  const hint = guess === undefined ? '' : `: did you mean "${member === undefined ? guess : `${member}.${guess}`}"?`
  if (member === undefined) throw optionError(name, `is unknown${hint}`)
  throw optionError(member, `has an unknown member "${name}"${hint}`)
}

function checkMembers(value: Record<string, unknown>, known: readonly string[], option: string): void {
  for (const name of Object.keys(value)) if (!known.includes(name)) unknown(option, option, name, known)
}

/**
 * Refuses any option name the guard does not know, nested ones included, naming
 * the closest known name: a misspelt option must never be silently ignored.
 */
export function checkOptionNames(options: object): void {
  for (const name of Object.keys(options)) if (!GUARD.includes(name)) unknown(name, undefined, name, GUARD)
  const o = options as Record<string, unknown>
  for (const option of ['jwksCache', 'decryption', 'dpop', 'cache', 'resourceMetadata'])
    if (isPlainObject(o[option])) checkMembers(o[option], NESTED[option]!, option)
  const dpop = o.dpop as Record<string, unknown> | undefined
  if (isPlainObject(dpop) && isPlainObject(dpop.nonce)) checkMembers(dpop.nonce, NESTED['dpop.nonce']!, 'dpop.nonce')
  if (Array.isArray(o.issuer))
    o.issuer.forEach((entry, i) => isPlainObject(entry) && checkMembers(entry, NESTED['issuer[]']!, `issuer[${i}]`))
}
