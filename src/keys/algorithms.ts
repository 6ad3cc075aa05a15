import type { JwsAlgorithm } from './options.js'

export const HMAC_ALGORITHMS: readonly JwsAlgorithm[] = ['HS256', 'HS384', 'HS512']
export const ASYMMETRIC_ALGORITHMS: readonly JwsAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]
export const ALL_ALGORITHMS: ReadonlySet<string> = new Set([...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS])

/** Minimum HMAC key length in bytes: the hash output (RFC 7518 §3.2). */
export const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 }

export const isHmac = (alg: string): boolean => alg.startsWith('HS')

/** The key shape an algorithm needs: `kty` and, for EC/OKP, `crv`. */
export function keyShapeFor(alg: string): { kty: 'RSA' | 'EC' | 'OKP' | 'oct'; crv?: string } | undefined {
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
    case 'PS256':
    case 'PS384':
    case 'PS512':
      return { kty: 'RSA' }
    case 'ES256':
      return { kty: 'EC', crv: 'P-256' }
    case 'ES384':
      return { kty: 'EC', crv: 'P-384' }
    case 'ES512':
      return { kty: 'EC', crv: 'P-521' }
    case 'EdDSA':
    case 'Ed25519':
      return { kty: 'OKP', crv: 'Ed25519' }
    case 'HS256':
    case 'HS384':
    case 'HS512':
      return { kty: 'oct' }
    default:
      return undefined
  }
}
