import { createHmac, createSecretKey, generateKeyPairSync, randomBytes, randomInt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hmacOf, hmacVerifies } from '../../src/verify/hmac.js'

/**
 * The HMAC that JWS signatures are checked with is built from two one-shot hashes and padded key blocks kept per key
 * (src/verify/hmac.ts). Every case is held against `createHmac` over the same bytes.
 */

const ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const
/** Around each block size (64, 128) and past it, where the key is hashed first. */
const KEY_LENGTHS = [0, 1, 31, 32, 48, 63, 64, 65, 127, 128, 129, 200, 1000]
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'

const ascii = (length: number): string => {
  let out = ''
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)]
  return out
}

const reference = (algorithm: string, key: Buffer, data: string): Buffer =>
  createHmac(algorithm, createSecretKey(key)).update(Buffer.from(data, 'latin1')).digest()

describe('HMAC of a signing input', () => {
  it('equals createHmac for every hash, key length and input length (short, long, around the buffer size)', () => {
    // The inner input is assembled in a 16 KiB buffer: block + input past it goes through createHmac instead.
    const lengths = [
      0,
      1,
      55,
      56,
      64,
      100,
      283,
      1000,
      16 * 1024 - 129,
      16 * 1024 - 128,
      16 * 1024 - 65,
      16 * 1024 - 64,
      16 * 1024 - 63,
      20_000,
    ]
    for (const algorithm of ALGORITHMS) {
      for (const keyLength of KEY_LENGTHS) {
        const secret = randomBytes(keyLength)
        const key = createSecretKey(secret)
        for (const length of lengths) {
          const data = ascii(length)
          expect([algorithm, keyLength, length, hmacOf(algorithm, key, data, length).toString('hex')]).toEqual([
            algorithm,
            keyLength,
            length,
            reference(algorithm, secret, data).toString('hex'),
          ])
        }
      }
    }
  })

  it('signs only the first `length` characters, whatever follows them', () => {
    const secret = randomBytes(32)
    const key = createSecretKey(secret)
    const token = `${ascii(40)}.${ascii(200)}.${ascii(43)}`
    const dot = token.lastIndexOf('.')
    expect(hmacOf('sha256', key, token, dot).equals(reference('sha256', secret, token.slice(0, dot)))).toBe(true)
    // A longer input written earlier leaves nothing behind for a shorter one.
    hmacOf('sha256', key, ascii(5000), 5000)
    expect(hmacOf('sha256', key, token, dot).equals(reference('sha256', secret, token.slice(0, dot)))).toBe(true)
  })

  it('reads a length past the end, or below zero, as `slice` does (no byte of an earlier input is hashed)', () => {
    const secret = randomBytes(32)
    const key = createSecretKey(secret)
    hmacOf('sha256', key, ascii(400), 400)
    const short = ascii(50)
    for (const length of [51, 60, 400, -1, -10]) {
      expect([length, hmacOf('sha256', key, short, length).equals(reference('sha256', secret, short.slice(0, length)))]).toEqual([
        length,
        true,
      ])
    }
  })

  it('keeps keys and hashes apart, in any order of use (1,000 random calls over 12 keys)', () => {
    const secrets = KEY_LENGTHS.slice(1).map((n) => randomBytes(n))
    const keys = secrets.map((s) => createSecretKey(s))
    for (let i = 0; i < 1000; i++) {
      const k = randomInt(keys.length)
      const algorithm = ALGORITHMS[randomInt(ALGORITHMS.length)]!
      const data = ascii(randomInt(600))
      expect(hmacOf(algorithm, keys[k]!, data, data.length).equals(reference(algorithm, secrets[k]!, data))).toBe(true)
    }
  })

  it('verifies the right MAC and refuses a changed one, a truncated one, another key and a public key', () => {
    const secret = randomBytes(32)
    const key = createSecretKey(secret)
    const data = ascii(300)
    const mac = reference('sha256', secret, data)
    expect(hmacVerifies('sha256', key, data, data.length, mac)).toBe(true)
    for (let byte = 0; byte < mac.length; byte++) {
      const changed = Buffer.from(mac)
      changed[byte]! ^= 1 << randomInt(8)
      expect(hmacVerifies('sha256', key, data, data.length, changed)).toBe(false)
    }
    expect(hmacVerifies('sha256', key, data, data.length, mac.subarray(0, 31))).toBe(false)
    expect(hmacVerifies('sha256', key, data, data.length, Buffer.alloc(0))).toBe(false)
    expect(hmacVerifies('sha256', createSecretKey(randomBytes(32)), data, data.length, mac)).toBe(false)
    // The same 32 bytes as an HS384 MAC, or the data one character shorter.
    expect(hmacVerifies('sha384', key, data, data.length, mac)).toBe(false)
    expect(hmacVerifies('sha256', key, data, data.length - 1, mac)).toBe(false)
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(hmacVerifies('sha256', publicKey, data, data.length, mac)).toBe(false)
  })
})
