import { compactDecrypt } from 'jose'
import { GuardError } from '../errors.js'
import { MAX_CANDIDATES } from '../keys/jwk.js'
import type { ParsedToken } from '../intake/token.js'
import { fits, joseKey, type DecryptionKey } from './keys.js'
import { isSymmetricKeyManagement } from './options.js'

/** The decryption rules fixed at construction. */
export interface DecryptionPolicy {
  keys: readonly DecryptionKey[]
  keyManagement: ReadonlySet<string>
  contentEncryption: ReadonlySet<string>
  required: boolean
  allowUnsigned: boolean
}

/** What a JWE held: a nested signed JWT (the usual case), or claims directly (only where allowed). */
export type Decrypted = { kind: 'nested'; jws: string } | { kind: 'claims'; payload: Record<string, unknown> }

const invalid = (reason: string, message = 'Invalid encrypted token'): GuardError => new GuardError('ERR_JWE_INVALID', message, { reason })

// One message for every failure of the decryption itself: no padding or key oracle.
const failed = (cause?: unknown): GuardError =>
  new GuardError('ERR_JWE_DECRYPTION_FAILED', 'Token decryption failed', { reason: 'decryption' }, { cause })

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** Header checks made before any key is touched: a PBES2 `p2c` or a `zip` bomb costs nothing here. */
function checkHeader(header: Record<string, unknown>, policy: DecryptionPolicy): { alg: string; enc: string } {
  const { alg, enc } = header as { alg: string; enc: string }
  if (!policy.keyManagement.has(alg)) throw invalid('alg', 'Encryption algorithm not allowed')
  if (!policy.contentEncryption.has(enc)) throw invalid('enc', 'Encryption algorithm not allowed')
  if (header.zip !== undefined) throw invalid('zip', 'Compressed tokens are not accepted')
  if (header.kid !== undefined && typeof header.kid !== 'string') throw invalid('kid')
  return { alg, enc }
}

export async function decryptToken(parsed: ParsedToken, policy: DecryptionPolicy): Promise<Decrypted> {
  const { alg, enc } = checkHeader(parsed.header, policy)
  const kid = parsed.header.kid as string | undefined
  const candidates = policy.keys.filter((k) => (kid === undefined || k.kid === undefined || k.kid === kid) && fits(k, alg, enc))
  if (candidates.length === 0) throw failed()
  let plaintext: Uint8Array | undefined
  let lastError: unknown
  for (const candidate of candidates.slice(0, MAX_CANDIDATES)) {
    try {
      ;({ plaintext } = await compactDecrypt(parsed.raw, await joseKey(candidate, alg, enc), {
        keyManagementAlgorithms: [alg],
        contentEncryptionAlgorithms: [enc],
      }))
      break
    } catch (err) {
      lastError = err
    }
  }
  if (!plaintext) throw failed(lastError)

  const text = Buffer.from(plaintext).toString('utf8')
  const cty = typeof parsed.header.cty === 'string' ? parsed.header.cty.toLowerCase().replace(/^application\//, '') : undefined
  if (cty === 'jwt' || COMPACT_JWS.test(text)) {
    if (!COMPACT_JWS.test(text)) throw invalid('nested_not_jws')
    return { kind: 'nested', jws: text }
  }
  // Claims straight in the JWE: with a public encryption key anyone could have made this.
  if (!policy.allowUnsigned || !isSymmetricKeyManagement(alg)) throw invalid('unsigned', 'Unsigned encrypted token')
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch {
    throw invalid('plaintext_not_json')
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalid('plaintext_not_object')
  return { kind: 'claims', payload: payload as Record<string, unknown> }
}

/** RFC 7519 §5.3: claims replicated into the JWE header must equal the inner claims. */
export function checkReplicatedClaims(header: Record<string, unknown>, payload: Record<string, unknown>): void {
  for (const claim of ['iss', 'sub', 'aud'] as const) {
    if (header[claim] === undefined) continue
    if (JSON.stringify(header[claim]) !== JSON.stringify(payload[claim])) throw invalid('replicated_claim', 'Replicated claim mismatch')
  }
}
