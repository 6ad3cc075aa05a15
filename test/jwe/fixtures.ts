import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { expect } from 'vitest'
import { GuardError, type GuardErrorCode } from '../../src/index.js'

/** An API's encryption key pair: the private half configures the guard, the public JWK mints tokens. */
export interface EncryptionKey {
  privateKey: KeyObject
  privateJwk: JWK
  pem: string
  /** No `kid`: tests set the JWE `kid` header themselves. */
  publicJwk: JWK
}

export type KeyKind = 'rsa' | 'P-256' | 'P-384' | 'x25519'

function pair(kind: KeyKind): { privateKey: KeyObject; publicKey: KeyObject } {
  if (kind === 'rsa') return generateKeyPairSync('rsa', { modulusLength: 2048 })
  if (kind === 'x25519') return generateKeyPairSync('x25519')
  return generateKeyPairSync('ec', { namedCurve: kind })
}

export function encryptionKey(kind: KeyKind): EncryptionKey {
  const { privateKey, publicKey } = pair(kind)
  return {
    privateKey,
    privateJwk: privateKey.export({ format: 'jwk' }) as JWK,
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicJwk: publicKey.export({ format: 'jwk' }) as JWK,
  }
}

/**
 * Awaits a verification that must be refused: a `GuardError` with `code`,
 * status 401 and an RFC 6750 `invalid_token` challenge. Returns the error.
 */
export async function refusal(verification: Promise<{ payload?: unknown }>, code: GuardErrorCode): Promise<GuardError> {
  const err: unknown = await verification.then(
    (auth: { payload?: unknown }) => {
      throw new Error(`expected ${code}, but the token was accepted with claims ${JSON.stringify(auth.payload)}`)
    },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(GuardError)
  const error = err as GuardError
  expect({ code: error.code, status: error.status }).toEqual({ code, status: 401 })
  expect(error.headers['WWW-Authenticate']).toContain('error="invalid_token"')
  return error
}

/** Re-encodes one segment of a compact token after editing its bytes (the result stays canonical base64url). */
export function editSegment(token: string, index: number, edit: (bytes: Buffer) => Buffer): string {
  const parts = token.split('.')
  parts[index] = edit(Buffer.from(parts[index]!, 'base64url')).toString('base64url')
  return parts.join('.')
}

/** Flips the low bit of the last byte. */
export const flipLastBit = (bytes: Buffer): Buffer => {
  const copy = Buffer.from(bytes)
  copy[copy.length - 1]! ^= 1
  return copy
}

export const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
