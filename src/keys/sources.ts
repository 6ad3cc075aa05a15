import type { KeyObject } from 'node:crypto'
import type { JSONWebKeySet, JWK, JWSHeaderParameters } from 'jose'
import { callbackError } from '../callbacks.js'
import { GuardError } from '../errors.js'
import type { EventSink } from '../events.js'
import type { IssuerPolicy } from '../claims/validate.js'
import { ALL_ALGORITHMS, HMAC_MIN_BYTES, isHmac } from './algorithms.js'
import { KeySet, MAX_CANDIDATES } from './jwk.js'
import { fitsAlg, jwkAlgOf, sameAlg } from './fit.js'
import { importPublicKey, importSecret } from './import.js'
import { HELD, type Candidate, type KeyLease } from './lease.js'
import type { KeySource } from './choice.js'
import type { GuardKeyOptions, KeyInput } from './options.js'
import { RemoteKeySet, type RemoteSettings } from './remote.js'
import { optionError } from '../option-error.js'

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
  /** Byte length of each `secret` (symmetric sources), checked against the HMAC algorithms by the caller. */
  readonly secretSizes?: readonly number[] | undefined
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

/** A local key as given in the options, with the `alg` its JWK binds it to. */
interface LocalKey {
  key: KeyObject
  bound: string | undefined
}

/**
 * `publicKey` or `secret`, one key or several for rotation (at most `MAX_CANDIDATES`), imported once.
 * The candidates for each algorithm are found at construction: a token pays only a map lookup.
 */
function staticResolver(keys: readonly LocalKey[], symmetric: boolean): KeyResolver {
  const byAlg = new Map<string, Candidate[]>()
  for (const alg of ALL_ALGORITHMS) {
    const fitting = keys.filter(({ key, bound }) => fitsAlg(key, alg) && sameAlg(bound, alg))
    if (fitting.length > 0)
      byAlg.set(
        alg,
        fitting.map(({ key }) => ({ key, lease: HELD })),
      )
  }
  const none: Candidate[] = []
  return {
    inferredAlgorithms: symmetric ? undefined : [...byAlg.keys()].filter((alg) => !isHmac(alg)),
    isSymmetric: symmetric,
    secretSizes: symmetric ? keys.map(({ key }) => key.symmetricKeySize ?? 0) : undefined,
    resolve: (header) => byAlg.get(header.alg!) ?? none,
    warm: async () => {},
    reload: async () => {},
    kids: () => [],
  }
}

/**
 * The elements of `secret` or `publicKey`: one value, or an array of 1 to `MAX_CANDIDATES` tried in
 * order (rotation). Each element is named with its index (`secret[1]`) when it is refused.
 */
function localKeys(value: unknown, option: 'secret' | 'publicKey'): LocalKey[] {
  const list = Array.isArray(value) ? value : [value]
  const name = (i: number) => (Array.isArray(value) ? `${option}[${i}]` : option)
  if (list.length === 0 || list.length > MAX_CANDIDATES) {
    throw optionError(option, `as an array must hold 1 to ${MAX_CANDIDATES} keys`)
  }
  return list.map((input: unknown, i) =>
    option === 'secret'
      ? { key: importSecret(input, name(i)), bound: undefined }
      : { key: importPublicKey(input, name(i)), bound: jwkAlgOf(input) },
  )
}

function localSetResolver(jwks: JSONWebKeySet, emit: EventSink | undefined): KeyResolver {
  const set = KeySet.from(jwks, (kid, reason) => emit?.({ type: 'jwks_key_dropped', source: 'jwks', kid, reason }))
  if (!set || set.size === 0) throw optionError('jwks', 'must be a JWKS ({ keys: [...] }) with at least one usable public key')
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

function getKeyResolver(getKey: NonNullable<GuardKeyOptions['getKey']>): KeyResolver {
  // jwtguard cannot see a key leave the user's store: every key returned until `reload()` shares one
  // lease, which `reload()` withdraws. Imports are memoized per returned object under that lease, so a
  // getKey that returns a cached JWK costs one import per reload.
  let lease: KeyLease = { withdrawn: false }
  let imported = new WeakMap<object, Candidate>()
  const toCandidate = (input: KeyInput, alg: string): Candidate => {
    if (typeof input === 'object' && input !== null && imported.has(input)) return imported.get(input)!
    let key: KeyObject
    if (isHmac(alg)) key = importSecret(input, 'getKey')
    else if ((input as JWK | null)?.kty === 'oct') throw new TypeError('symmetric key for an asymmetric algorithm')
    else key = importPublicKey(input, 'getKey')
    if (isHmac(alg) && (key.symmetricKeySize ?? 0) < HMAC_MIN_BYTES[alg]!) throw new TypeError('HMAC key shorter than the hash')
    const candidate: Candidate = { key, lease }
    if (typeof input === 'object') imported.set(input, candidate)
    return candidate
  }
  /** The keys that fit the token's `alg`, in the order given; past `MAX_CANDIDATES` nothing is read or imported. */
  const candidatesOf = (given: KeyInput | readonly KeyInput[], alg: string): Candidate[] => {
    const list: readonly KeyInput[] = Array.isArray(given) ? given : [given as KeyInput]
    const out: Candidate[] = []
    for (let i = 0; i < list.length && i < MAX_CANDIDATES; i++) {
      const input = list[i]!
      const candidate = toCandidate(input, alg)
      if (fitsAlg(candidate.key, alg) && sameAlg(jwkAlgOf(input), alg)) out.push(candidate)
    }
    return out
  }
  return {
    inferredAlgorithms: undefined,
    isSymmetric: false,
    resolve: async (header, _issuer, token) => {
      let given: KeyInput | readonly KeyInput[] | undefined
      try {
        // Its own copy: the parsed header may be shared by every token that has it (src/intake/token.ts), and what
        // the callback writes must not reach the decisions taken on the token.
        given = await getKey({ ...header }, token)
      } catch (err) {
        // A key source that fails may only be down: 503, never a refused token (unless it threw a status of its own).
        throw callbackError(err, 'getKey', 'ERR_KEY_SOURCE_UNAVAILABLE', 'Key source unavailable', 'get_key_failed')
      }
      if (given === undefined || given === null) return []
      try {
        return candidatesOf(given, header.alg!)
      } catch (cause) {
        throw new GuardError('ERR_JWKS_NO_MATCHING_KEY', 'No matching key', { reason: 'get_key_unusable' }, { cause })
      }
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
 * Builds the key source `chooseKeySource` chose; throws an option error naming a key that cannot be
 * imported. `issuers` are the configured issuers' policies: remote keys are held for each of them.
 */
export function createKeyResolver(
  source: KeySource,
  issuers: readonly IssuerPolicy[],
  settings: RemoteSettings,
  emit: EventSink | undefined,
): KeyResolver {
  switch (source.kind) {
    case 'publicKey':
      return staticResolver(localKeys(source.value, 'publicKey'), false)
    case 'secret':
      return staticResolver(localKeys(source.value, 'secret'), true)
    case 'jwks':
      return localSetResolver(source.value, emit)
    case 'getKey':
      return getKeyResolver(source.getKey)
    case 'remote':
      return remoteResolver(source.jwksUri, issuers, settings, emit)
  }
}
