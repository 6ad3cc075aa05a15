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
  /** Claim rules; each issuer's algorithm set is filled by `resolveKeys` once the key source is built. */
  policy: ClaimPolicy
  /** Each issuer's own `algorithms`, in the order of `policy.issuers`. */
  issuerAlgorithms: readonly (readonly JwsAlgorithm[] | undefined)[]
  sources: TokenSource[]
  realm: string
  maxTokenLength: number
  /** The claim carrying the token id for revocation. */
  jtiClaim: string
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
    return {
      issuer: o.issuer,
      jwksUri: o.jwksUri,
      audiences: o.audience === undefined ? undefined : stringList(o.audience, `issuer[${i}].audience`),
      algorithms: o.algorithms,
    }
  })
}

/** Validates every option except those of the key source (see `src/keys/`). */
export function resolveOptions(options: GuardOptions<unknown>): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw optionError('', 'must be an object', { given: options })
  checkOptionNames(options)
  const audiences = stringList(options.audience, 'audience')
  const entries = issuerEntries(options.issuer)
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
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 16)
    throw optionError('maxTokenLength', 'must be an integer of at least 16 (bytes)', { given: maxTokenLength })

  return {
    policy: {
      issuers,
      clockTolerance: tolerance,
      maxTokenAge: options.maxTokenAge === undefined ? undefined : parseSeconds(options.maxTokenAge, 'maxTokenAge'),
      requiredClaims,
      audienceClaim: options.audienceClaim ?? 'aud',
      expectedClaims: expectedClaims(options.expectedClaims),
    },
    issuerAlgorithms: entries.map((e) => e.algorithms),
    sources: tokenSources(options.tokenFrom),
    realm,
    maxTokenLength,
    jtiClaim,
  }
}
