import { mtlsPolicy, type MtlsPolicy } from '../mtls/policy.js'
import { compileReader, type GrantReader } from '../authz/grants.js'
import type { StandardSchemaV1 } from '../claims/schema.js'
import { normalizeTyp, type ClaimPolicy, type IssuerPolicy } from '../claims/validate.js'
import { resolveOptions } from '../config.js'
import { cacheSettings, VerifiedCache } from '../cache.js'
import { dpopPolicy } from '../dpop/policy.js'
import type { DpopPolicy } from '../dpop/proof.js'
import { eventSink, type EventSink } from '../events.js'
import type { ChallengeSettings } from '../http/challenge.js'
import { protectedResource, type ProtectedResource } from '../http/metadata.js'
import type { TokenSource } from '../intake/request.js'
import type { DecryptionPolicy } from '../jwe/decrypt.js'
import { decryptionPolicy } from '../jwe/policy.js'
import { resolveKeys } from '../keys/setup.js'
import type { KeyResolver } from '../keys/sources.js'
import type { GuardOptions, JwsAlgorithm } from '../options.js'
import type { RevocationContext, RevocationStore } from '../revocation/store.js'
import type { AuthInfo } from '../types.js'
import type { Verified } from './verified.js'

/**
 * Everything the request path reads, resolved once by `createGuard` and frozen:
 * defaults applied, options validated, readers compiled. Nothing per request
 * reads the raw options.
 */
export interface Settings<C> {
  readonly policy: ClaimPolicy
  readonly issuerPolicies: readonly IssuerPolicy[]
  /** Every algorithm some issuer accepts, in the order resolved. */
  readonly algorithmList: readonly JwsAlgorithm[]
  readonly algorithms: ReadonlySet<string>
  /** The required `typ`, normalized; `typRequired` is the option as given (for explanations). */
  readonly typ: string | undefined
  readonly typRequired: string | undefined
  readonly maxTokenLength: number
  readonly sources: readonly TokenSource[]
  readonly schemes: ReadonlySet<string>
  readonly authRequired: boolean
  readonly keys: KeyResolver
  readonly scopes: GrantReader
  readonly roles: GrantReader
  readonly claimsSchema: StandardSchemaV1<unknown, C> | undefined
  readonly challenge: ChallengeSettings
  readonly emit: EventSink | undefined
  readonly decryption: DecryptionPolicy | undefined
  /** The store of verified tokens: mutable, held by reference. */
  readonly cache: VerifiedCache<C> | undefined
  /** Verifications in progress, by token: concurrent requests with one new token share one verification. */
  readonly inflight: Map<string, Promise<Verified<C>>>
  readonly dpop: DpopPolicy | undefined
  /** Certificate-bound tokens (RFC 8705), when `mtls` is set. */
  readonly mtls: MtlsPolicy | undefined
  readonly isRevoked: ((auth: AuthInfo<C>) => unknown) | undefined
  readonly revocation: RevocationStore | undefined
  /** Whether any revocation check is configured (skipped entirely otherwise). */
  readonly revocable: boolean
  /** What a revocation store is told besides the token, built once. */
  readonly revocationContext: RevocationContext
  readonly resource: ProtectedResource | undefined
  readonly realm: string
}

/** Validates the options (a `TypeError` naming the one at fault) and resolves every default, once. */
export function resolveSettings<C>(options: GuardOptions<C>): Settings<C> {
  const emit = eventSink(options?.onEvent)
  const resolved = resolveOptions(options as GuardOptions<unknown>)
  const issuerPolicies = [...resolved.policy.issuers.values()]
  const { keys, algorithms } = resolveKeys(options, issuerPolicies, resolved.issuerAlgorithms, emit)
  const variables = options.claimVariables ?? {}
  const dpop = options.dpop === undefined || options.dpop === false ? undefined : dpopPolicy(options.dpop)
  const resource =
    options.resourceMetadata === undefined
      ? undefined
      : protectedResource(options.resourceMetadata, {
          bearerMethods: bearerMethods(resolved.sources),
          dpopAlgorithms: dpop ? [...dpop.algorithms] : undefined,
          dpopRequired: dpop?.required ?? false,
        })
  const cache = cacheSettings(options.cache)
  return Object.freeze({
    policy: resolved.policy,
    issuerPolicies: Object.freeze(issuerPolicies),
    algorithmList: Object.freeze(algorithms),
    algorithms: new Set(algorithms),
    typ: options.typ === undefined ? undefined : normalizeTyp(options.typ),
    typRequired: options.typ,
    maxTokenLength: resolved.maxTokenLength,
    sources: Object.freeze(resolved.sources),
    schemes: new Set(dpop ? ['bearer', 'dpop'] : ['bearer']),
    authRequired: options.authRequired ?? true,
    keys,
    scopes: compileReader(options.scopeClaim ?? ['scope', 'scp'], variables, 'scopeClaim'),
    roles: compileReader(options.rolesClaim ?? 'roles', variables, 'rolesClaim'),
    claimsSchema: options.claimsSchema as StandardSchemaV1<unknown, C> | undefined,
    challenge: Object.freeze({
      realm: resolved.realm,
      resourceMetadataUrl: resource?.url,
      dpopAlgorithms: dpop ? [...dpop.algorithms] : undefined,
      dpopRequired: dpop?.required ?? false,
    }),
    emit,
    decryption: options.decryption === undefined ? undefined : decryptionPolicy(options.decryption),
    cache: cache ? new VerifiedCache<C>(cache) : undefined,
    inflight: new Map(),
    dpop,
    mtls: options.mtls === undefined || options.mtls === false ? undefined : mtlsPolicy(options.mtls),
    isRevoked: options.isRevoked as Settings<C>['isRevoked'],
    revocation: options.revocation,
    revocable: options.isRevoked !== undefined || options.revocation !== undefined,
    revocationContext: Object.freeze({ emit, jtiClaim: resolved.jtiClaim }),
    resource,
    realm: resolved.realm,
  })
}

/** RFC 9728 `bearer_methods_supported`, from where the guard takes tokens. */
function bearerMethods(sources: readonly TokenSource[]): string[] {
  const methods = new Set<string>()
  for (const s of sources)
    if (s === 'header') methods.add('header')
    else if (typeof s === 'object' && 'query' in s) methods.add('query')
    else if (typeof s === 'object' && 'body' in s) methods.add('body')
  return [...methods]
}
