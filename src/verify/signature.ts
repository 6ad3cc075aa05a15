import { constants, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto'
import { GuardError } from '../errors.js'
import { hmacVerifies } from './hmac.js'
import { checkAtOnce, schedule, type Scheme } from './schedule.js'

/**
 * JWS signature verification on `node:crypto`, with keys imported once as
 * `KeyObject`s. HMAC costs less than any hand-off and is checked at once, so a
 * token signed with a secret is verified synchronously (no promise); where an
 * asymmetric check runs is for src/verify/schedule.ts to decide.
 */

const PSS = (saltLength: number): Omit<VerifyKeyObjectInput, 'key'> => ({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })
const P1363: Omit<VerifyKeyObjectInput, 'key'> = { dsaEncoding: 'ieee-p1363' }

/** Per algorithm; `cost` starts at what one check takes on the bench machine and follows what it takes here. */
const SCHEMES: Record<string, Scheme> = {
  RS256: { hash: 'sha256', cost: 0.03 },
  RS384: { hash: 'sha384', cost: 0.03 },
  RS512: { hash: 'sha512', cost: 0.03 },
  PS256: { hash: 'sha256', key: PSS(32), cost: 0.03 },
  PS384: { hash: 'sha384', key: PSS(48), cost: 0.03 },
  PS512: { hash: 'sha512', key: PSS(64), cost: 0.03 },
  ES256: { hash: 'sha256', key: P1363, length: 64, cost: 0.08 },
  ES384: { hash: 'sha384', key: P1363, length: 96, cost: 0.8 },
  ES512: { hash: 'sha512', key: P1363, length: 132, cost: 1.5 },
  EdDSA: { hash: null, length: 64, cost: 0.12 },
  Ed25519: { hash: null, length: 64, cost: 0.12 },
}

const HMAC: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

const invalid = (): GuardError => new GuardError('ERR_JWT_SIGNATURE_INVALID', 'Invalid signature', { reason: 'signature' })

/** The index of the first secret that verifies the HMAC, synchronously; throws when none does. */
function verifyHmac(hash: string, token: string, length: number, signature: Buffer, keys: readonly KeyObject[]): number {
  for (let i = 0; i < keys.length; i++) if (hmacVerifies(hash, keys[i]!, token, length, signature)) return i
  throw invalid()
}

/**
 * Verifies a compact JWS (already through intake: three canonical segments,
 * alg allowed) against candidate keys matched on `kid`, type and curve. The
 * first key that verifies wins: gives its index in `keys` (the token cache
 * remembers which key vouched for a token), or throws when none does: at once
 * for HMAC and for a lone check against one key (see `checkAtOnce`), as one
 * promise per token otherwise, whatever the number of keys tried.
 */
export function verifySignature(token: string, alg: string, keys: readonly KeyObject[], decoded?: Buffer): number | Promise<number> {
  const dot = token.lastIndexOf('.')
  // Intake's bytes of the signature segment where it decoded them already.
  const signature = decoded ?? Buffer.from(token.slice(dot + 1), 'base64url')
  const hmac = HMAC[alg]
  if (hmac) return verifyHmac(hmac, token, dot, signature, keys)
  const data = Buffer.from(token.slice(0, dot), 'latin1')
  const scheme = SCHEMES[alg]
  if (!scheme || (scheme.length !== undefined && signature.length !== scheme.length)) throw invalid()
  const key = keys.length === 1 && keys[0]!.type === 'public' ? keys[0]! : undefined
  const now = key && checkAtOnce({ scheme, data, signature, key })
  if (now !== undefined) {
    if (now) return 0
    throw invalid()
  }
  return new Promise((resolve, reject) => {
    const attempt = (i: number): void => {
      if (i >= keys.length) return reject(invalid())
      const key = keys[i]!
      if (key.type !== 'public') return attempt(i + 1)
      schedule({ scheme, data, signature, key, done: (ok) => (ok ? resolve(i) : attempt(i + 1)) })
    }
    attempt(0)
  })
}
