import type { KeyObject } from 'node:crypto'
import type { JSONWebKeySet, JWK } from 'jose'
import type { CryptoKeyLike } from '../keys/input.js'

/** JWE key management algorithms jwtguard may accept. RSA1_5 and PBES2 are never among them. */
export type KeyManagementAlgorithm =
  | 'RSA-OAEP'
  | 'RSA-OAEP-256'
  | 'RSA-OAEP-384'
  | 'RSA-OAEP-512'
  | 'ECDH-ES'
  | 'ECDH-ES+A128KW'
  | 'ECDH-ES+A192KW'
  | 'ECDH-ES+A256KW'
  | 'A128KW'
  | 'A192KW'
  | 'A256KW'
  | 'A128GCMKW'
  | 'A192GCMKW'
  | 'A256GCMKW'
  | 'dir'

export type ContentEncryptionAlgorithm = 'A128GCM' | 'A192GCM' | 'A256GCM' | 'A128CBC-HS256' | 'A192CBC-HS384' | 'A256CBC-HS512'

/** A decryption key: a private JWK, a PEM, a `KeyObject`, raw bytes (`dir`, `A*KW`), or any of those with a `kid`. */
export type DecryptionKeyInput =
  JWK | string | KeyObject | CryptoKeyLike | Uint8Array | { kid?: string; key: JWK | string | KeyObject | Uint8Array }

export interface DecryptionOptions {
  /** Keys for JWE access tokens, chosen by `kid` (or each tried, bounded, when the token names none). Rotate by adding the new key first. */
  keys: DecryptionKeyInput | readonly DecryptionKeyInput[] | JSONWebKeySet
  /** Allowed `alg`. Default: RSA-OAEP-256/384/512, ECDH-ES, ECDH-ES+A128KW/A192KW/A256KW, A128KW/A192KW/A256KW, dir. */
  keyManagementAlgorithms?: KeyManagementAlgorithm[]
  /** Allowed `enc`. Default: A128GCM, A256GCM, A128CBC-HS256, A192CBC-HS384, A256CBC-HS512. */
  contentEncryptionAlgorithms?: ContentEncryptionAlgorithm[]
  /** `true`: plain (unencrypted) JWS tokens are refused. Default `false`. */
  required?: boolean
  /**
   * Accept a JWE whose plaintext is the claims themselves (no inner signature).
   * Only with symmetric key management (`dir`, `A*KW`, `A*GCMKW`): with a public
   * encryption key anyone could mint such a token. Default `false`.
   */
  allowUnsigned?: boolean
}

/** Encrypted (JWE) access tokens. */
export interface GuardDecryptionOptions {
  /** Keys and rules for encrypted (JWE) access tokens; a nested JWT's inner JWS is always verified. */
  decryption?: DecryptionOptions
}

export const DEFAULT_KEY_MANAGEMENT: readonly KeyManagementAlgorithm[] = [
  'RSA-OAEP-256',
  'RSA-OAEP-384',
  'RSA-OAEP-512',
  'ECDH-ES',
  'ECDH-ES+A128KW',
  'ECDH-ES+A192KW',
  'ECDH-ES+A256KW',
  'A128KW',
  'A192KW',
  'A256KW',
  'dir',
]
export const DEFAULT_CONTENT_ENCRYPTION: readonly ContentEncryptionAlgorithm[] = [
  'A128GCM',
  'A256GCM',
  'A128CBC-HS256',
  'A192CBC-HS384',
  'A256CBC-HS512',
]

export const ALL_KEY_MANAGEMENT: ReadonlySet<string> = new Set<KeyManagementAlgorithm>([
  ...DEFAULT_KEY_MANAGEMENT,
  'RSA-OAEP',
  'A128GCMKW',
  'A192GCMKW',
  'A256GCMKW',
])
export const ALL_CONTENT_ENCRYPTION: ReadonlySet<string> = new Set<ContentEncryptionAlgorithm>([...DEFAULT_CONTENT_ENCRYPTION, 'A192GCM'])

/** Key management where the encryption key is secret: only these may carry unsigned claims. */
export const isSymmetricKeyManagement = (alg: string): boolean => alg === 'dir' || /^A\d{3}(GCM)?KW$/.test(alg)
