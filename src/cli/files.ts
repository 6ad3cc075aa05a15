// The files `jwtguard verify` reads: a decryption key and a client certificate. Each read is bounded, and nothing of
// a file is ever quoted in an error: it holds, or was meant to hold, a private key.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import type { JWK } from 'jose'
import type { DecryptionOptions } from '../jwe/options.js'

// A key file is a few KiB; a JWKS of many keys stays far below this. Read no more, whatever the file is.
const MAX_KEY_FILE = 256 * 1024
// A client certificate is one or two KiB (a PEM chain a few); the guard refuses over 16 KiB of DER from a proxy.
const MAX_CERTIFICATE_FILE = 64 * 1024

/** A PEM private key, a private JWK or a JWKS, as `decryption.keys` takes them; the guard then checks each key. */
export function readKeyFile(path: string): DecryptionOptions['keys'] {
  const text = readBounded('--decryption-key-file', path, MAX_KEY_FILE, 'key file').toString('utf8').trim()
  // Never quote the file: it holds (or was meant to hold) a private key. JSON.parse's messages quote their input.
  const unusable = new TypeError(`--decryption-key-file ${path}: holds no PEM key, JWK or JWKS`)
  const publicOnly = new TypeError(`--decryption-key-file ${path}: holds a public key: decryption needs the private key`)
  if (text.startsWith('-----BEGIN ')) {
    if (isPublicPem(text)) throw publicOnly
    return text
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw unusable
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw unusable
  const keys = (value as { keys?: unknown }).keys
  const jwks = Array.isArray(keys)
  if (!jwks && typeof (value as { kty?: unknown }).kty !== 'string') throw unusable
  // An asymmetric JWK without `d` is the public half: the commonest mix-up, named as such (the guard checks the rest).
  const isPublic = (jwk: unknown) => typeof jwk === 'object' && jwk !== null && (jwk as JWK).kty !== 'oct' && (jwk as JWK).d === undefined
  if (jwks ? keys.length > 0 && keys.every(isPublic) : isPublic(value)) throw publicOnly
  return value as DecryptionOptions['keys']
}

/** A PEM that is no private key but a public key or a certificate. */
function isPublicPem(text: string): boolean {
  try {
    createPrivateKey(text)
    return false
  } catch {
    try {
      createPublicKey(text)
      return true
    } catch {
      return false
    }
  }
}

/**
 * The DER of the `--client-cert` file: a PEM certificate (the first, when it holds a chain) or a DER one. A private
 * key or a certificate request given by mistake is named as such and never quoted, nor is anything else of the file.
 */
export function clientCertificate(paths: readonly string[] | undefined): Buffer | undefined {
  if (paths === undefined) return undefined
  if (paths.length !== 1) throw new TypeError('--client-cert is given more than once: give the one certificate the token is bound to')
  const path = paths[0]!
  const bytes = readBounded('--client-cert', path, MAX_CERTIFICATE_FILE, 'certificate')
  const text = bytes.toString('latin1')
  const pem = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/.exec(text)?.[0]
  // Anything else in PEM (a key, a request) is not tried as DER: it is named below.
  const der = pem ?? (text.includes('-----BEGIN ') ? undefined : bytes)
  const certificate = der === undefined ? undefined : parseCertificate(der)
  if (certificate) return certificate.raw
  const what = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)
    ? 'holds a private key, not a certificate (nothing of it is shown)'
    : /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----/.test(text)
      ? 'holds a certificate request (CSR), not a certificate'
      : 'holds no certificate'
  throw new TypeError(`--client-cert ${path}: ${what}: give the X.509 certificate the client presents (PEM or DER)`)
}

/** Node's parser, minus its error (which may quote what it read). */
function parseCertificate(input: string | Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(input)
  } catch {
    return undefined
  }
}

/** At most `max` bytes of a file (a device or a FIFO included); over that, or unreadable, a usage error. */
function readBounded(flag: string, path: string, max: number, what: string): Buffer {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw new TypeError(`${flag} ${path}: cannot open it (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  try {
    const buffer = Buffer.alloc(max + 1)
    let size = 0
    for (let n = -1; n !== 0 && size < buffer.length; size += n) n = readSync(fd, buffer, size, buffer.length - size, null)
    if (size > max) throw new TypeError(`${flag} ${path}: over ${max / 1024} KiB, that is no ${what}`)
    return buffer.subarray(0, size)
  } catch (err) {
    if (err instanceof TypeError) throw err
    throw new TypeError(`${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  } finally {
    closeSync(fd)
  }
}
