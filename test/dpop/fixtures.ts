import { createHash, randomUUID, type webcrypto } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'

export type ProofAlgorithm = 'ES256' | 'ES384' | 'EdDSA' | 'PS256'
/** The proof algorithms the test guards allow, one per key type (EC, OKP, RSA). */
export const PROOF_ALGORITHMS: ProofAlgorithm[] = ['ES256', 'EdDSA', 'PS256']

/** The `algs` every test guard allows, as its challenge lists them. */
export const ALGS = 'algs="ES256 EdDSA PS256"'

/** A client's DPoP key pair, with its public JWK and RFC 7638 thumbprint computed by jose (not by jwtguard). */
export interface ClientKey {
  alg: ProofAlgorithm
  privateKey: webcrypto.CryptoKey
  publicJwk: JWK
  privateJwk: JWK
  jkt: string
}

export async function clientKey(alg: ProofAlgorithm = 'ES256'): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
  const publicJwk = await exportJWK(publicKey)
  return { alg, privateKey, publicJwk, privateJwk: await exportJWK(privateKey), jkt: await calculateJwkThumbprint(publicJwk) }
}

/** RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII. */
export const ath = (token: string): string => createHash('sha256').update(token, 'ascii').digest('base64url')

export const now = (): number => Math.floor(Date.now() / 1000)

export interface ProofOptions {
  htm?: string
  htu: string
  /** The access token whose `ath` the proof carries; `null` leaves `ath` out. */
  token: string | null
  /** Claims to add or override; a claim set to `undefined` is left out. */
  claims?: Record<string, unknown>
  /** Header parameters to add or override (`typ`, `alg`, `jwk` …). */
  header?: Record<string, unknown>
  /** Sign with this instead of the client's private key (a forged or HMAC proof). */
  signWith?: webcrypto.CryptoKey | Uint8Array
}

/** Signs a DPoP proof (RFC 9449 §4.2) with jose, as a client would. */
export async function signProof(key: ClientKey, options: ProofOptions): Promise<string> {
  const claims: Record<string, unknown> = { jti: randomUUID(), htm: options.htm ?? 'GET', htu: options.htu, iat: now() }
  if (options.token !== null) claims.ath = ath(options.token)
  Object.assign(claims, options.claims)
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name]
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...options.header }
  // jose signs a `crit` header only for extensions declared understood: the client understands its own.
  const crit = Object.fromEntries(((header.crit as string[] | undefined) ?? []).map((name) => [name, true]))
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(options.signWith ?? key.privateKey, { crit })
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A proof with `alg: none`: unsecured (empty signature) or with junk where the signature goes. */
export function unsecuredProof(key: ClientKey, options: ProofOptions, signature = ''): string {
  const claims = { jti: randomUUID(), htm: options.htm ?? 'GET', htu: options.htu, iat: now(), ath: ath(options.token ?? '') }
  return `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk })}.${b64(claims)}.${signature}`
}
