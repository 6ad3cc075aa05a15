// `GuardOptions` is composed of parts, each declared beside its concern; this file only assembles them.
import type { GuardGrantOptions } from './authz/options.js'
import type { GuardCacheOptions } from './cache.js'
import type { GuardClaimOptions } from './claims/options.js'
import type { GuardDpopOptions } from './dpop/options.js'
import type { GuardEventOptions } from './events.js'
import type { GuardHttpOptions } from './http/options.js'
import type { GuardIntakeOptions } from './intake/options.js'
import type { GuardDecryptionOptions } from './jwe/options.js'
import type { GuardKeyOptions } from './keys/options.js'
import type { GuardMtlsOptions } from './mtls/options.js'
import type { GuardRevocationOptions } from './revocation/options.js'
import type { DefaultClaims } from './types.js'

export type { GuardGrantOptions } from './authz/options.js'
export type { GuardCacheOptions } from './cache.js'
export type { GuardClaimOptions, IssuerOptions } from './claims/options.js'
export type { GuardDpopOptions } from './dpop/options.js'
export type { GuardEventOptions } from './events.js'
export type { GuardHttpOptions } from './http/options.js'
export type { GuardIntakeOptions } from './intake/options.js'
export type { GuardDecryptionOptions } from './jwe/options.js'
export type {
  CryptoKeyLike,
  GuardKeyOptions,
  JwksCacheOptions,
  JwsAlgorithm,
  KeyInput,
  PublicKeyInput,
  SecretInput,
} from './keys/options.js'
export type { GuardMtlsOptions } from './mtls/options.js'
export type { GuardRevocationOptions } from './revocation/options.js'

/** Everything `createGuard` takes: `C` is the claims type that `auth.payload` has. */
export interface GuardOptions<C = DefaultClaims>
  extends
    GuardClaimOptions<C>,
    GuardKeyOptions,
    GuardDecryptionOptions,
    GuardIntakeOptions,
    GuardGrantOptions,
    GuardRevocationOptions<C>,
    GuardCacheOptions,
    GuardDpopOptions,
    GuardMtlsOptions,
    GuardHttpOptions,
    GuardEventOptions {}
