import { ASYMMETRIC_ALGORITHMS, ALL_ALGORITHMS, HMAC_ALGORITHMS, HMAC_MIN_BYTES, isHmac } from './keys/algorithms.js'
import { checkRemoteUrl } from './keys/fetch.js'
import { DEFAULT_REMOTE_SETTINGS, type RemoteSettings } from './keys/remote.js'
import type { KeyResolver } from './keys/sources.js'
import { DEFAULT_MAX_TOKEN_LENGTH } from './intake/token.js'
import type { TokenSource } from './intake/request.js'
import type { ClaimPolicy, IssuerPolicy } from './claims/validate.js'
import { parseSeconds } from './claims/time.js'
import { checkOptionNames } from './known-options.js'
import type { GuardOptions, IssuerOptions, JwsAlgorithm } from './options.js'
import { CHALLENGE_TEXT } from './http/challenge.js'
import { optionError } from './option-error.js'

const fail = (option: string, message: string): never => {
  throw optionError(option, message)
}

function stringList(value: unknown, option: string): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string' || v === '')) {
    return fail(option, 'must be a non-empty string or a non-empty array of non-empty strings')
  }
  return list as string[]
}

/** Names and values a challenge carries (a claim in `error_description`, the `realm`) must fit RFC 6750 §3's characters. */
function challengeText(value: string, option: string, what: string): string {
  if (!CHALLENGE_TEXT.test(value)) {
    fail(option, `${what} ${JSON.stringify(value)} cannot be carried in a WWW-Authenticate challenge (printable ASCII without " or \\)`)
  }
  return value
}

function tokenSources(value: GuardOptions<unknown>['tokenFrom']): TokenSource[] {
  const list = value === undefined ? ['header' as const] : Array.isArray(value) ? value : [value]
  if (list.length === 0) fail('tokenFrom', 'must name at least one source')
  for (const s of list) {
    const ok =
      s === 'header' ||
      typeof s === 'function' ||
      (typeof s === 'object' &&
        s !== null &&
        ((typeof (s as { cookie?: unknown }).cookie === 'string' && (s as { cookie: string }).cookie !== '') ||
          (typeof (s as { query?: unknown }).query === 'string' && (s as { query: string }).query !== '') ||
          (typeof (s as { body?: unknown }).body === 'string' && (s as { body: string }).body !== '')))
    if (!ok) fail('tokenFrom', "entries must be 'header', { cookie: name }, { query: name }, { body: name } or a function")
  }
  return list
}

function remoteSettings(value: GuardOptions<unknown>['jwksCache']): RemoteSettings {
  if (value === undefined) return DEFAULT_REMOTE_SETTINGS
  if (typeof value !== 'object' || value === null) return fail('jwksCache', 'must be an object')
  const out = { ...DEFAULT_REMOTE_SETTINGS }
  for (const key of Object.keys(value) as (keyof RemoteSettings)[]) {
    if (!Object.hasOwn(out, key)) fail('jwksCache', `has an unknown member "${key}"`)
    const n = value[key]
    if (n === undefined) continue
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) fail(`jwksCache.${key}`, 'must be a non-negative number of milliseconds')
    out[key] = n as number
  }
  if (out.timeoutDuration === 0) fail('jwksCache.timeoutDuration', 'must be greater than 0')
  if (out.maxResponseSize === 0) fail('jwksCache.maxResponseSize', 'must be greater than 0')
  return out
}

function expectedClaims(value: GuardOptions<unknown>['expectedClaims']): [string, string | number | boolean][] {
  if (value === undefined) return []
  if (typeof value !== 'object' || value === null) return fail('expectedClaims', 'must be an object of claim values')
  const entries = Object.entries(value)
  for (const [name, v] of entries) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) fail('expectedClaims', 'values must be strings, numbers or booleans')
    challengeText(name, 'expectedClaims', 'has a claim name')
  }
  return entries
}

export interface ResolvedOptions {
  /** Claim rules; issuers' algorithm sets are filled in by `finish` once the key source is known. */
  policy: ClaimPolicy
  remote: RemoteSettings
  sources: TokenSource[]
  realm: string
  maxTokenLength: number
  /** The claim carrying the token id for revocation. */
  jtiClaim: string
  /** Checks algorithms against the key source and fills each issuer's set; returns the union. */
  finish(keys: KeyResolver): JwsAlgorithm[]
}

interface IssuerEntry {
  issuer: string
  jwksUri: string | undefined
  audiences: string[] | undefined
  algorithms: JwsAlgorithm[] | undefined
}

function issuerEntries(value: GuardOptions<unknown>['issuer']): IssuerEntry[] {
  if (value === undefined) return fail('issuer', 'is required: every token\'s "iss" is checked')
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0) return fail('issuer', 'must be a non-empty string or a non-empty array')
  const seen = new Set<string>()
  return list.map((item: string | IssuerOptions, i: number) => {
    const o: IssuerOptions = typeof item === 'string' ? { issuer: item } : item
    if (typeof o !== 'object' || o === null || typeof o.issuer !== 'string' || o.issuer === '') {
      return fail(`issuer[${i}]`, 'must be a non-empty string or { issuer, jwksUri?, audience?, algorithms? }')
    }
    if (seen.has(o.issuer)) fail(`issuer[${i}]`, 'repeats an issuer')
    seen.add(o.issuer)
    if (o.jwksUri !== undefined) checkRemoteUrl(o.jwksUri, `issuer[${i}].jwksUri`)
    return {
      issuer: o.issuer,
      jwksUri: o.jwksUri,
      audiences: o.audience === undefined ? undefined : stringList(o.audience, `issuer[${i}].audience`),
      algorithms: o.algorithms,
    }
  })
}

/** Validates every option except the key source (see `createKeyResolver`). */
export function resolveOptions(options: GuardOptions<unknown>): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw optionError('', 'must be an object', { given: options })
  checkOptionNames(options)
  const audiences = stringList(options.audience, 'audience')
  const entries = issuerEntries(options.issuer)
  const local = ['jwks', 'publicKey', 'secret', 'getKey'].some((k) => options[k as keyof GuardOptions] !== undefined)
  if (options.jwksUri !== undefined) {
    if (typeof options.jwksUri !== 'string') fail('jwksUri', 'must be a URL string')
    checkRemoteUrl(options.jwksUri, 'jwksUri')
  } else if (!local) {
    // Discovery: the issuer itself is fetched from, so it must be a URL we may fetch.
    entries.forEach((e, i) => e.jwksUri ?? checkRemoteUrl(e.issuer, entries.length === 1 ? 'issuer' : `issuer[${i}]`))
  }
  if (local && entries.some((e) => e.jwksUri !== undefined))
    fail('issuer', 'entries may set "jwksUri" only when the guard uses remote keys')
  const issuers = new Map<string, IssuerPolicy>(
    entries.map((e) => [
      e.issuer,
      { issuer: e.issuer, audiences: new Set(e.audiences ?? audiences), algorithms: new Set<string>(), jwksUri: e.jwksUri },
    ]),
  )
  const requiredClaims = options.requiredClaims === undefined ? [] : stringList(options.requiredClaims, 'requiredClaims')
  for (const claim of requiredClaims) challengeText(claim, 'requiredClaims', 'has a claim name')
  if (options.typ !== undefined && (typeof options.typ !== 'string' || options.typ === '')) fail('typ', 'must be a non-empty string')
  if (options.authRequired !== undefined && typeof options.authRequired !== 'boolean') fail('authRequired', 'must be a boolean')
  if (options.revocation !== undefined && typeof options.revocation?.isRevoked !== 'function') {
    fail('revocation', 'must be a store with an isRevoked(auth) method')
  }
  const tolerance = options.clockTolerance === undefined ? 5 : parseSeconds(options.clockTolerance, 'clockTolerance')
  // A store forgetting a revocation while the guard still accepts the token would bring it back.
  if (typeof options.revocation?.leeway === 'number' && options.revocation.leeway < tolerance) {
    fail('revocation', `keeps entries ${options.revocation.leeway} s past exp, less than clockTolerance (${tolerance} s): raise its leeway`)
  }
  for (const fn of ['isRevoked', 'onEvent'] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') fail(fn, 'must be a function')
  }
  if (options.claimsSchema !== undefined && typeof options.claimsSchema?.['~standard']?.validate !== 'function') {
    fail('claimsSchema', 'must be a Standard Schema (zod, valibot, arktype …)')
  }
  if (
    options.claimVariables !== undefined &&
    (typeof options.claimVariables !== 'object' ||
      options.claimVariables === null ||
      Object.values(options.claimVariables).some((v) => typeof v !== 'string'))
  ) {
    fail('claimVariables', 'must be an object of strings')
  }
  if (options.audienceClaim !== undefined && (typeof options.audienceClaim !== 'string' || options.audienceClaim === '')) {
    fail('audienceClaim', 'must be a claim name')
  }
  const jtiClaim = options.jtiClaim === undefined ? 'jti' : options.jtiClaim
  if (typeof jtiClaim !== 'string' || jtiClaim === '') fail('jtiClaim', 'must be a non-empty claim name')
  const realm = options.realm ?? 'api'
  if (typeof realm !== 'string' || realm === '') fail('realm', 'must be a non-empty string')
  challengeText(realm, 'realm', 'is')
  const maxTokenLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 16) fail('maxTokenLength', 'must be an integer of at least 16 (bytes)')

  return {
    policy: {
      issuers,
      clockTolerance: tolerance,
      maxTokenAge: options.maxTokenAge === undefined ? undefined : parseSeconds(options.maxTokenAge, 'maxTokenAge'),
      requiredClaims,
      audienceClaim: options.audienceClaim ?? 'aud',
      expectedClaims: expectedClaims(options.expectedClaims),
    },
    remote: remoteSettings(options.jwksCache),
    sources: tokenSources(options.tokenFrom),
    realm,
    maxTokenLength,
    jtiClaim,
    finish(keys: KeyResolver) {
      const all = new Set<JwsAlgorithm>()
      entries.forEach((e, i) => {
        const own = algorithms(options, keys, e.algorithms ?? options.algorithms, e.algorithms ? `issuer[${i}].algorithms` : 'algorithms')
        const policy = issuers.get(e.issuer)!
        for (const alg of own) {
          policy.algorithms.add(alg)
          all.add(alg)
        }
      })
      return [...all]
    },
  }
}

/**
 * The HMAC algorithms every secret is long enough for (RFC 7518 §3.2), or the failure naming the
 * shortest one (`secret[1]` when several are given).
 */
function checkSecrets(options: GuardOptions<unknown>, sizes: readonly number[], algs: readonly JwsAlgorithm[]): void {
  const shortest = sizes.indexOf(Math.min(...sizes))
  const name = Array.isArray(options.secret) ? `secret[${shortest}]` : 'secret'
  for (const alg of algs) {
    const need = HMAC_MIN_BYTES[alg]!
    if (sizes[shortest]! < need) fail(name, `is ${sizes[shortest]} bytes: ${alg} needs at least ${need}`)
  }
}

function algorithms(
  options: GuardOptions<unknown>,
  keys: KeyResolver,
  given: readonly JwsAlgorithm[] | undefined,
  option: string,
): JwsAlgorithm[] {
  const sizes = keys.secretSizes ?? []
  if (given === undefined) {
    if (keys.isSymmetric) {
      const fitting = HMAC_ALGORITHMS.filter((a) => sizes.every((size) => size >= HMAC_MIN_BYTES[a]!))
      if (fitting.length === 0) checkSecrets(options, sizes, ['HS256'])
      return [...fitting]
    }
    return [...(keys.inferredAlgorithms ?? ASYMMETRIC_ALGORITHMS)] as JwsAlgorithm[]
  }
  if (!Array.isArray(given) || given.length === 0) return fail(option, 'must be a non-empty array')
  for (const alg of given) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') fail(option, 'must not contain "none": unsigned tokens are never accepted')
    if (!ALL_ALGORITHMS.has(alg)) fail(option, `contains an unsupported algorithm "${String(alg)}"`)
  }
  const hmac = given.filter(isHmac)
  if (hmac.length > 0 && hmac.length < given.length) fail(option, 'must not mix HMAC (HS*) and public-key algorithms')
  if (hmac.length > 0 && !keys.isSymmetric && options.getKey === undefined) {
    fail(option, 'has HMAC algorithms but the key source is a public key: that is algorithm confusion')
  }
  if (hmac.length === 0 && keys.isSymmetric) fail(option, 'has public-key algorithms but the key source is a "secret"')
  if (keys.isSymmetric) checkSecrets(options, sizes, hmac)
  if (keys.inferredAlgorithms) {
    const unusable = given.filter((a) => !keys.inferredAlgorithms!.includes(a))
    if (unusable.length > 0) fail(option, `contains ${unusable.join(', ')}, which the "publicKey" cannot verify`)
  }
  return [...given]
}
