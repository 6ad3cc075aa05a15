import type { KeyObject } from 'node:crypto'
import type { JSONWebKeySet, JWK, JWSHeaderParameters } from 'jose'
import { callbackError } from '../callbacks.js'
import { GuardError } from '../errors.js'
import type { EventSink } from '../events.js'
import type { IssuerPolicy } from '../claims/validate.js'
import type { GuardOptions, KeyInput } from '../options.js'
import { algorithmsForKeyShape, HMAC_MIN_BYTES, keyShapeFor } from './algorithms.js'
import { KeySet } from './jwk.js'
import { importPublicKey, importSecret } from './import.js'
import { HELD, type Candidate, type KeyLease } from './lease.js'
import { RemoteKeySet, type RemoteSettings } from './remote.js'

/** A key as the verifier takes it: imported once, reused for every token. */
export type VerifyKey = KeyObject

/**
 * Finds the keys that may verify a token. `issuer` is the allowed issuer the
 * token's (unverified) `iss` named: it only selects whose keys to try.
 */
export interface KeyResolver {
  /** Algorithms this source can verify with, when it knows (used for defaults). */
  readonly inferredAlgorithms: readonly string[] | undefined
  readonly isSymmetric: boolean
  resolve(header: JWSHeaderParameters, issuer: IssuerPolicy, token: string): Candidate[] | Promise<Candidate[]>
  /** Loads remote keys now (for `guard.ready()`); no-op for local sources. */
  warm(issuers: readonly IssuerPolicy[]): Promise<void>
  /**
   * Forces a refetch of remote keys; a key the new set lacks is withdrawn. For `getKey`, withdraws
   * every key it returned so far (it cannot tell which left); local keys cannot leave.
   */
  reload(issuers: readonly IssuerPolicy[]): Promise<void>
  kids(issuer: IssuerPolicy): string[]
  /** Epoch ms until which keys resolved now may be trusted (remote sets); `undefined` for local keys. */
  keysValidUntil?(issuer: IssuerPolicy): number
}

const KEY_SOURCES = ['jwksUri', 'jwks', 'publicKey', 'secret', 'getKey'] as const

function shapeOf(key: KeyObject): { kty: string; crv?: string } {
  if (key.type === 'secret') return { kty: 'oct' }
  const type = key.asymmetricKeyType
  if (type === 'rsa' || type === 'rsa-pss') return { kty: 'RSA' }
  if (type === 'ed25519') return { kty: 'OKP', crv: 'Ed25519' }
  if (type === 'ec') {
    const named = key.asymmetricKeyDetails?.namedCurve
    const crv = named === 'prime256v1' ? 'P-256' : named === 'secp384r1' ? 'P-384' : named === 'secp521r1' ? 'P-521' : named
    return crv === undefined ? { kty: 'EC' } : { kty: 'EC', crv }
  }
  return { kty: String(type) }
}

function fitsAlg(key: KeyObject, alg: string): boolean {
  const need = keyShapeFor(alg)
  const have = shapeOf(key)
  return need !== undefined && need.kty === have.kty && (need.crv === undefined || need.crv === have.crv)
}

/** A JWK's own `alg` binds it to that algorithm (EdDSA and Ed25519 name the same one). */
export function jwkAlgOf(input: unknown): string | undefined {
  return typeof input === 'object' && input !== null && 'kty' in input && typeof (input as JWK).alg === 'string'
    ? (input as JWK).alg
    : undefined
}

const sameAlg = (bound: string | undefined, alg: string): boolean =>
  bound === undefined || bound === alg || ((bound === 'EdDSA' || bound === 'Ed25519') && (alg === 'EdDSA' || alg === 'Ed25519'))

function staticResolver(key: KeyObject, symmetric: boolean, bound?: string): KeyResolver {
  const shape = shapeOf(key)
  const candidate: Candidate = { key, lease: HELD }
  return {
    inferredAlgorithms: symmetric ? undefined : algorithmsForKeyShape(shape.kty, shape.crv).filter((a) => sameAlg(bound, a)),
    isSymmetric: symmetric,
    resolve: (header) => (fitsAlg(key, header.alg!) && sameAlg(bound, header.alg!) ? [candidate] : []),
    warm: async () => {},
    reload: async () => {},
    kids: () => [],
  }
}

function localSetResolver(jwks: JSONWebKeySet, emit: EventSink | undefined): KeyResolver {
  const set = KeySet.from(jwks, (kid, reason) => emit?.({ type: 'jwks_key_dropped', source: 'jwks', kid, reason }))
  if (!set || set.size === 0)
    throw new TypeError('jwtguard: option "jwks" must be a JWKS ({ keys: [...] }) with at least one usable public key')
  return {
    inferredAlgorithms: undefined,
    isSymmetric: false,
    resolve: (header) => set.candidates(header.alg!, header.kid),
    warm: async () => {},
    reload: async () => {},
    kids: () => set.kids(),
  }
}

/**
 * One remote set per configured issuer, made at construction and held for the guard's life: the
 * configuration is the bound. Evicting sets under a bound smaller than it would forget their cooldowns,
 * and forged tokens rotating over the issuers would then buy one fetch each. Issuers configured with the
 * same JWKS URL share one set; a key of issuer B never verifies a token of issuer A otherwise.
 */
function remoteResolver(
  jwksUri: string | undefined,
  issuers: readonly IssuerPolicy[],
  settings: RemoteSettings,
  emit: EventSink | undefined,
): KeyResolver {
  const byLabel = new Map<string, RemoteKeySet>()
  const sets = new Map<IssuerPolicy, RemoteKeySet>()
  for (const issuer of issuers) {
    const uri = issuer.jwksUri ?? jwksUri
    const label = uri ?? issuer.issuer
    let set = byLabel.get(label)
    if (!set) byLabel.set(label, (set = new RemoteKeySet(uri ? { jwksUri: uri } : { issuer: issuer.issuer }, settings, emit)))
    sets.set(issuer, set)
  }
  // Callers pass only the configured policies (a token's `iss` is matched against them first).
  const setFor = (issuer: IssuerPolicy): RemoteKeySet => sets.get(issuer)!
  const distinct = (list: readonly IssuerPolicy[]): RemoteKeySet[] => [...new Set(list.map(setFor))]
  return {
    inferredAlgorithms: undefined,
    isSymmetric: false,
    resolve: (header, issuer) => setFor(issuer).candidates(header.alg!, header.kid),
    warm: async (list) => {
      // A few at a time: thousands of tenants must not open thousands of connections at once.
      const queue = distinct(list)
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < queue.length) await queue[next++]!.warm()
      }
      await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker))
    },
    reload: async (list) => {
      await Promise.all(distinct(list).map((set) => set.reload()))
    },
    kids: (issuer) => setFor(issuer).kids(),
    keysValidUntil: (issuer) => setFor(issuer).validUntil(),
  }
}

function getKeyResolver(getKey: NonNullable<GuardOptions['getKey']>): KeyResolver {
  // jwtguard cannot see a key leave the user's store: every key returned until `reload()` shares one
  // lease, which `reload()` withdraws. Imports are memoized per returned object under that lease, so a
  // getKey that returns a cached JWK costs one import per reload.
  let lease: KeyLease = { withdrawn: false }
  let imported = new WeakMap<object, Candidate>()
  const toCandidate = (input: KeyInput, alg: string): Candidate => {
    if (typeof input === 'object' && imported.has(input)) return imported.get(input)!
    let key: KeyObject
    if (alg.startsWith('HS'))
      key = input instanceof Uint8Array || typeof input === 'string' ? importSecret(input, 'getKey') : (input as KeyObject)
    else if ((input as JWK).kty === 'oct') throw new TypeError('symmetric key for an asymmetric algorithm')
    else key = importPublicKey(input, 'getKey')
    if (alg.startsWith('HS') && (key.symmetricKeySize ?? 0) < HMAC_MIN_BYTES[alg]!) throw new TypeError('HMAC key shorter than the hash')
    const candidate: Candidate = { key, lease }
    if (typeof input === 'object') imported.set(input, candidate)
    return candidate
  }
  return {
    inferredAlgorithms: undefined,
    isSymmetric: false,
    resolve: async (header, _issuer, token) => {
      let input: KeyInput | undefined
      try {
        input = await getKey(header, token)
      } catch (err) {
        // A key source that fails may only be down: 503, never a refused token (unless it threw a status of its own).
        throw callbackError(err, 'getKey', 'ERR_KEY_SOURCE_UNAVAILABLE', 'Key source unavailable', 'get_key_failed')
      }
      if (input === undefined || input === null) return []
      let candidate: Candidate
      try {
        candidate = toCandidate(input, header.alg!)
      } catch (cause) {
        throw new GuardError('ERR_JWKS_NO_MATCHING_KEY', 'No matching key', { reason: 'get_key_unusable' }, { cause })
      }
      return fitsAlg(candidate.key, header.alg!) && sameAlg(jwkAlgOf(input), header.alg!) ? [candidate] : []
    },
    warm: async () => {},
    reload: async () => {
      lease.withdrawn = true
      lease = { withdrawn: false }
      imported = new WeakMap()
    },
    kids: () => [],
  }
}

/**
 * Builds the one key source the options name; throws a TypeError naming the option otherwise.
 * `issuers` are the configured issuers' policies: remote keys are held for each of them.
 */
export function createKeyResolver(
  options: GuardOptions<unknown>,
  issuers: readonly IssuerPolicy[],
  settings: RemoteSettings,
  emit: EventSink | undefined,
): KeyResolver {
  const given = KEY_SOURCES.filter((name) => options[name] !== undefined)
  if (given.length > 1)
    throw new TypeError(`jwtguard: options ${given.map((g) => `"${g}"`).join(' and ')} are exclusive: give one key source`)
  switch (given[0]) {
    case 'publicKey':
      return staticResolver(importPublicKey(options.publicKey, 'publicKey'), false, jwkAlgOf(options.publicKey))
    case 'secret':
      return staticResolver(importSecret(options.secret, 'secret'), true)
    case 'jwks':
      return localSetResolver(options.jwks!, emit)
    case 'getKey':
      if (typeof options.getKey !== 'function') throw new TypeError('jwtguard: option "getKey" must be a function')
      return getKeyResolver(options.getKey)
    case 'jwksUri':
      return remoteResolver(options.jwksUri, issuers, settings, emit)
    default:
      if (options.issuer === undefined) {
        throw new TypeError('jwtguard: no key source: give "issuer" (for discovery), "jwksUri", "jwks", "publicKey", "secret" or "getKey"')
      }
      return remoteResolver(undefined, issuers, settings, emit)
  }
}
