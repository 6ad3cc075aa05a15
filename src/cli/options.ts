// `jwtguard verify`'s flags and, with `--env`, the app's `JWT_*` variables, turned into guard options by the very
// code that reads the app's environment (`optionsFromEnv`): the command and the app cannot read a value differently.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import type { JWK } from 'jose'
import { ENV_VARIABLES, optionsFromEnv } from '../env.js'
import type { DecryptionOptions } from '../jwe/options.js'
import { closestName } from '../known-options.js'
import type { GuardOptions } from '../options.js'
import { note, type CliIo } from './io.js'

/** The flags of `verify` that build the guard. */
export interface VerifyFlags {
  issuer?: string[] | undefined
  audience?: string[] | undefined
  'jwks-uri'?: string | undefined
  typ?: string | undefined
  algorithms?: string | undefined
  'clock-tolerance'?: string | undefined
  preset?: string | undefined
  'preset-client-id'?: string | undefined
  'scope-claim'?: string | undefined
  'roles-claim'?: string | undefined
  'required-claims'?: string | undefined
  'secret-env'?: string | undefined
  'decryption-key-file'?: string | undefined
  /** Repeatable for parseArgs only: more than one is refused (`clientCertificate`). */
  'client-cert'?: string[] | undefined
  env?: boolean | undefined
}

/** Each variable a flag stands for; a flag given wins over its variable. */
const FLAG_OF: Readonly<Record<string, keyof VerifyFlags>> = {
  JWT_ISSUER: 'issuer',
  JWT_AUDIENCE: 'audience',
  JWT_JWKS_URI: 'jwks-uri',
  JWT_ALGORITHMS: 'algorithms',
  JWT_TYP: 'typ',
  JWT_CLOCK_TOLERANCE: 'clock-tolerance',
  JWT_PRESET: 'preset',
  JWT_PRESET_CLIENT_ID: 'preset-client-id',
  JWT_SCOPE_CLAIM: 'scope-claim',
  JWT_ROLES_CLAIM: 'roles-claim',
  JWT_REQUIRED_CLAIMS: 'required-claims',
}

// A key file is a few KiB; a JWKS of many keys stays far below this. Read no more, whatever the file is.
const MAX_KEY_FILE = 256 * 1024
// A client certificate is one or two KiB (a PEM chain a few); the guard refuses over 16 KiB of DER from a proxy.
const MAX_CERTIFICATE_FILE = 64 * 1024

export function guardOptions(flags: VerifyFlags, io: CliIo): GuardOptions {
  const env: Record<string, string> = flags.env ? knownVariables(io) : {}
  for (const [variable, flag] of Object.entries(FLAG_OF)) {
    const value = flags[flag]
    if (typeof value === 'string') env[variable] = value
    else if (Array.isArray(value)) env[variable] = value.join(',')
  }
  const secretName = flags['secret-env']
  if (secretName !== undefined) {
    const secret = io.env[secretName]
    if (!secret) throw new TypeError(`--secret-env: the environment variable ${secretName} is not set`)
    env.JWT_SECRET = secret
  }
  if (!env.JWT_ISSUER?.trim()) throw new TypeError('verify needs --issuer (or JWT_ISSUER with --env)')
  if (!env.JWT_AUDIENCE?.trim()) throw new TypeError('verify needs --audience (or JWT_AUDIENCE with --env)')
  let options: GuardOptions
  try {
    options = optionsFromEnv(env)
  } catch (err) {
    throw flagNamed(err, flags)
  }
  // A repeated flag's values are taken whole: a comma inside one is part of it, not a separator.
  if (flags.issuer) options.issuer = flags.issuer
  if (flags.audience) options.audience = flags.audience
  const keyFile = flags['decryption-key-file']
  if (keyFile !== undefined) options.decryption = { keys: readKeyFile(keyFile) }
  if (flags['client-cert'] !== undefined) {
    // The real mtls stage decides; the command hands it the token in the header of a request it builds, whatever
    // source the app's JWT_TOKEN_FROM names (with that one alone, the request would carry no token).
    options.mtls = true
    options.tokenFrom = 'header'
  }
  return options
}

/** The `JWT_*` variables the app reads; any other is reported, as the app reports it at start. */
function knownVariables(io: CliIo): Record<string, string> {
  const known: Record<string, string> = {}
  for (const [name, value] of Object.entries(io.env)) {
    if (!name.startsWith('JWT_') || value === undefined) continue
    if ((ENV_VARIABLES as readonly string[]).includes(name)) {
      known[name] = value
      continue
    }
    const guess = closestName(name, ENV_VARIABLES)
    note(io, `warning: environment variable ${name} is not read by jwtguard${guess ? `: did you mean ${guess}?` : ''}`)
  }
  return known
}

/** `optionsFromEnv` names the variable at fault; when a flag gave its value, the flag is named instead. */
function flagNamed(err: unknown, flags: VerifyFlags): unknown {
  if (!(err instanceof TypeError)) return err
  const variable = /environment variable (JWT_[A-Z_]+)/.exec(err.message)?.[1]
  const flag = variable === undefined ? undefined : FLAG_OF[variable]
  if (flag === undefined || flags[flag] === undefined) return err
  return new TypeError(err.message.replace(`jwtguard: environment variable ${variable}`, `--${flag}`))
}

/** A PEM private key, a private JWK or a JWKS, as `decryption.keys` takes them; the guard then checks each key. */
function readKeyFile(path: string): DecryptionOptions['keys'] {
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
export function clientCertificate(flags: VerifyFlags): Buffer | undefined {
  const paths = flags['client-cert']
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
