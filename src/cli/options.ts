// `jwtguard verify`'s flags and, with `--env`, the app's `JWT_*` variables, turned into guard options by the very
// code that reads the app's environment (`optionsFromEnv`): the command and the app cannot read a value differently.
import { ENV_VARIABLES, optionsFromEnv } from '../env.js'
import { closestName } from '../known-options.js'
import type { GuardOptions } from '../options.js'
import { readKeyFile } from './files.js'
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
