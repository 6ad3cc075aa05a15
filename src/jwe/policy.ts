import { importDecryptionKeys } from './keys.js'
import type { DecryptionPolicy } from './decrypt.js'
import {
  ALL_CONTENT_ENCRYPTION,
  ALL_KEY_MANAGEMENT,
  DEFAULT_CONTENT_ENCRYPTION,
  DEFAULT_KEY_MANAGEMENT,
  isSymmetricKeyManagement,
  type DecryptionOptions,
} from './options.js'
import { optionError } from '../option-error.js'

const fail = (option: string, message: string): never => {
  throw optionError(`decryption.${option}`, message)
}

function allowList(
  given: readonly string[] | undefined,
  defaults: readonly string[],
  all: ReadonlySet<string>,
  option: string,
): Set<string> {
  if (given === undefined) return new Set(defaults)
  if (!Array.isArray(given) || given.length === 0) return fail(option, 'must be a non-empty array')
  for (const alg of given) {
    if (/^(RSA1_5|PBES2)/.test(alg)) fail(option, `must not contain ${alg}: it is refused as unsafe (padding oracle / unbounded work)`)
    if (!all.has(alg)) fail(option, `contains an unsupported algorithm "${String(alg)}"`)
  }
  return new Set(given)
}

/** Validates `decryption` and imports its keys, once. */
export function decryptionPolicy(options: DecryptionOptions): DecryptionPolicy {
  if (typeof options !== 'object' || options === null) throw optionError('decryption', 'must be an object', { given: options })
  const keyManagement = allowList(options.keyManagementAlgorithms, DEFAULT_KEY_MANAGEMENT, ALL_KEY_MANAGEMENT, 'keyManagementAlgorithms')
  const allowUnsigned = options.allowUnsigned ?? false
  if (allowUnsigned && [...keyManagement].some((a) => !isSymmetricKeyManagement(a))) {
    fail('allowUnsigned', 'needs keyManagementAlgorithms limited to symmetric ones (dir, A*KW, A*GCMKW)')
  }
  return {
    keys: importDecryptionKeys(options.keys),
    keyManagement,
    contentEncryption: allowList(
      options.contentEncryptionAlgorithms,
      DEFAULT_CONTENT_ENCRYPTION,
      ALL_CONTENT_ENCRYPTION,
      'contentEncryptionAlgorithms',
    ),
    required: options.required ?? false,
    allowUnsigned,
  }
}
