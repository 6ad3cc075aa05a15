export { createGuard, type Guard, type VerifyOptions } from './guard.js'
export { GuardError, isGuardError, ERROR_CODES, type GuardErrorCode, type GuardErrorContext, type ChallengeError } from './errors.js'
export { ERROR_TABLE, type ErrorInfo, type ExplainCheck } from './error-table.js'
export {
  requireScopes,
  requireRoles,
  requireClaims,
  type AuthCheck,
  type RequireOptions,
  type ClaimExpectations,
  type ClaimCheckOptions,
} from './authz/checks.js'
export { grantsOf, type ClaimReader, type ClaimPath } from './authz/grants.js'
export { presets, type ClaimPreset, type PresetName } from './authz/presets.js'
export { optionsFromEnv } from './env.js'
// Adapter plumbing is in `jwtguard/adapter`; the type of `jwtGuard(input)` stays here for users.
export type { GuardInput } from './adapter-kit.js'
export type {
  GuardOptions,
  GuardCacheOptions,
  GuardClaimOptions,
  GuardDecryptionOptions,
  GuardDpopOptions,
  GuardEventOptions,
  GuardGrantOptions,
  GuardHttpOptions,
  GuardIntakeOptions,
  GuardKeyOptions,
  GuardMtlsOptions,
  GuardRevocationOptions,
  IssuerOptions,
  JwsAlgorithm,
  JwksCacheOptions,
  KeyInput,
} from './options.js'
export type { AuthInfo, Claims, DefaultClaims, InferClaims, JwtRegisteredClaims, RegisteredClaims } from './types.js'
export type { GuardRequest, TokenSource } from './intake/request.js'
export type { GuardEvent } from './events.js'
export type { StandardSchemaV1 } from './claims/schema.js'
export type { DecryptionOptions, DecryptionKeyInput, KeyManagementAlgorithm, ContentEncryptionAlgorithm } from './jwe/options.js'
export { memoryRevocationStore, type MemoryRevocationStore, type MemoryRevocationStoreOptions } from './revocation/memory.js'
export type { RevocationStore, RevocationStoreOptions, RevocationContext } from './revocation/store.js'
export type { DpopOptions } from './dpop/options.js'
export { memoryDpopReplayStore, type DpopReplayContext, type DpopReplayStore, type MemoryDpopReplayStoreOptions } from './dpop/replay.js'
export { jwkThumbprint } from './dpop/thumbprint.js'
export type { ResourceMetadataOptions, ProtectedResource } from './http/metadata.js'
export { humanDuration, type Explanation, type ExplainStep } from './explain.js'
