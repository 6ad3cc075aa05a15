import { generateKeyPair, randomUUID, sign, type KeyObject } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import type { JWK } from 'jose'

/**
 * The soak's identity provider on 127.0.0.1: a JWKS that rotates the way real
 * IdPs do (a key is published one period before it signs, and stays published
 * one period after), that can be switched down (500s), and that mints every
 * kind of token the soak sends.
 */

export const TOKEN_KINDS = ['valid', 'expired', 'forged', 'unknown-kid', 'malformed'] as const
export type TokenKind = (typeof TOKEN_KINDS)[number]

interface Key {
  kid: string
  privateKey: KeyObject
  jwk: JWK
}

export interface SoakIssuer {
  issuer: string
  audience: string
  jwksUri: string
  /** JWKS requests served, by outcome. */
  readonly fetches: { ok: number; failed: number }
  /** The public JWK of the key that signs now. */
  signingJwk(): JWK
  /** Publishes a new key; the previously published one starts signing; keys older than the previous signer are withdrawn. */
  rotate(): Promise<void>
  /** `true`: the JWKS endpoint answers 500. */
  setDown(down: boolean): void
  /** An `Authorization` header value (or none) of this kind. */
  authorization(kind: TokenKind): string | undefined
  close(): Promise<void>
}

const generate = promisify(generateKeyPair)
const POOL = 50

async function newKey(): Promise<Key> {
  const { privateKey, publicKey } = await generate('rsa', { modulusLength: 2048 })
  const kid = `soak-${randomUUID().slice(0, 8)}`
  return { kid, privateKey, jwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' } }
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

function signJwt(kid: string, key: KeyObject, claims: Record<string, unknown>): string {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(claims)}`
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`
}

/** Authorization values no verifier may accept: not a JWT, bad base64url, `alg: none`, too large, another scheme. */
const MALFORMED: (string | undefined)[] = [
  undefined,
  'Bearer not-a-jwt',
  'Bearer a.b.c',
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'Bearer ey!.ey!.sig',
  `Bearer ${'a'.repeat(9000)}.b.c`,
  'Basic dXNlcjpwYXNz',
  'Bearer',
]

export async function createSoakIssuer(audience = 'https://api.soak.test'): Promise<SoakIssuer> {
  const published: Key[] = [await newKey(), await newKey()]
  const attacker = await newKey()
  const fetches = { ok: 0, failed: 0 }
  let down = false
  let pools: Record<Exclude<TokenKind, 'malformed'>, string[]> = { valid: [], expired: [], forged: [], 'unknown-kid': [] }
  let counter = 0

  const server = createServer((req, res) => {
    if (req.url !== '/jwks') return void res.writeHead(404).end()
    if (down) {
      fetches.failed++
      return void res.writeHead(500).end()
    }
    fetches.ok++
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: published.map((k) => k.jwk) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const signer = (): Key => published.at(-2)!

  function mint(): void {
    const now = Math.floor(Date.now() / 1000)
    const claims = (i: number, exp = now + 3600) => ({
      iss: issuer,
      aud: audience,
      sub: `soak-${i}`,
      iat: exp - 3600,
      exp,
      jti: randomUUID(),
    })
    const many = (make: (i: number) => string) => Array.from({ length: POOL }, (_, i) => make(i))
    const { kid, privateKey } = signer()
    pools = {
      valid: many((i) => signJwt(kid, privateKey, claims(i))),
      expired: many((i) => signJwt(kid, privateKey, claims(i, now - 120))),
      forged: many((i) => signJwt(kid, attacker.privateKey, claims(i))),
      'unknown-kid': many((i) => signJwt(`unknown-${randomUUID().slice(0, 8)}`, attacker.privateKey, claims(i))),
    }
  }
  mint()

  return {
    issuer,
    audience,
    jwksUri: `${issuer}/jwks`,
    fetches,
    signingJwk: () => signer().jwk,
    async rotate() {
      published.push(await newKey())
      if (published.length > 3) published.shift()
      mint()
    },
    setDown(value) {
      down = value
    },
    authorization(kind) {
      counter++
      if (kind === 'malformed') return MALFORMED[counter % MALFORMED.length]
      const pool = pools[kind]
      return `Bearer ${pool[counter % pool.length]}`
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
