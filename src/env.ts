import { presets, type PresetName } from './authz/presets.js'
import { parseSeconds } from './claims/time.js'
import type { TokenSource } from './intake/request.js'
import { closestName } from './known-options.js'
import type { GuardOptions, JwsAlgorithm } from './options.js'

/** Every variable `optionsFromEnv` reads; any other `JWT_*` is reported, since it is most likely a typo. */
export const ENV_VARIABLES = [
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_JWKS_URI',
  'JWT_ALGORITHMS',
  'JWT_SECRET',
  'JWT_PRESET',
  'JWT_PRESET_CLIENT_ID',
  'JWT_SCOPE_CLAIM',
  'JWT_ROLES_CLAIM',
  'JWT_TYP',
  'JWT_CLOCK_TOLERANCE',
  'JWT_MAX_TOKEN_AGE',
  'JWT_REQUIRED_CLAIMS',
  'JWT_TOKEN_FROM',
  'JWT_DPOP',
] as const

const invalid = (variable: string, message: string): never => {
  throw new TypeError(`jwtguard: environment variable ${variable} ${message}`)
}

type Env = Record<string, string | undefined>

/** A comma-separated list, trimmed, empty items dropped; `undefined` when unset or empty. */
function list(env: Env, name: string): string[] | undefined {
  const items = env[name]
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  return items?.length ? items : undefined
}

const one = <T>(items: T[]): T | T[] => (items.length === 1 ? items[0]! : items)

function preset(env: Env): Partial<GuardOptions> {
  const name = env.JWT_PRESET?.trim()
  const clientId = env.JWT_PRESET_CLIENT_ID?.trim()
  if (!name) {
    if (clientId) invalid('JWT_PRESET_CLIENT_ID', 'is set but JWT_PRESET is not (it is for JWT_PRESET=keycloak)')
    return {}
  }
  const names = Object.keys(presets)
  if (!Object.hasOwn(presets, name)) {
    const guess = closestName(name, names)
    invalid('JWT_PRESET', `must be one of ${names.join(', ')}${guess ? `: did you mean "${guess}"?` : ''}`)
  }
  if (clientId && name !== 'keycloak') invalid('JWT_PRESET_CLIENT_ID', `applies to JWT_PRESET=keycloak only, not ${name}`)
  if (name === 'keycloak') return presets.keycloak(clientId ? { clientId } : {})
  return (presets[name as Exclude<PresetName, 'keycloak'>] as () => Partial<GuardOptions>)()
}

function seconds(env: Env, name: string): number | undefined {
  const value = env[name]?.trim()
  if (!value) return undefined
  try {
    return parseSeconds(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value, name)
  } catch {
    return invalid(name, "must be a number of seconds or a duration like '30s', '2m', '1h'")
  }
}

/** `header`, `cookie:NAME`, `query:NAME`, `body:NAME`, comma-separated, in the order they are tried. */
function tokenFrom(env: Env): TokenSource[] | undefined {
  return list(env, 'JWT_TOKEN_FROM')?.map((item): TokenSource => {
    if (item === 'header') return 'header'
    const [kind, name, ...rest] = item.split(':')
    if (!name || rest.length > 0)
      return invalid('JWT_TOKEN_FROM', `has "${item}": entries are header, cookie:NAME, query:NAME or body:NAME`)
    if (kind === 'cookie') return { cookie: name }
    if (kind === 'query') return { query: name }
    if (kind === 'body') return { body: name }
    return invalid('JWT_TOKEN_FROM', `has "${item}": entries are header, cookie:NAME, query:NAME or body:NAME`)
  })
}

function dpop(env: Env): GuardOptions['dpop'] {
  const value = env.JWT_DPOP?.trim().toLowerCase()
  if (!value || value === 'false') return undefined
  if (value === 'true') return true
  if (value === 'required') return { required: true }
  return invalid('JWT_DPOP', 'must be true, required or false')
}

/** Warns once per unknown `JWT_*` variable, naming the closest known one. */
function reportUnknown(env: Env): void {
  for (const name of Object.keys(env)) {
    if (!name.startsWith('JWT_') || (ENV_VARIABLES as readonly string[]).includes(name)) continue
    const guess = closestName(name, ENV_VARIABLES)
    process.emitWarning(`environment variable ${name} is not read by jwtguard${guess ? `: did you mean ${guess}?` : ''}`, {
      type: 'JwtguardWarning',
      code: 'JWTGUARD_UNKNOWN_ENV',
    })
  }
}

/**
 * The guard options the environment gives: `jwtGuard()` with no options reads
 * them. `JWT_ISSUER` and `JWT_AUDIENCE` are required; see docs/environment.md for the
 * rest. A variable with a value it cannot take fails with a TypeError naming it.
 */
export function optionsFromEnv(env: Env = process.env): GuardOptions {
  const issuer = list(env, 'JWT_ISSUER')
  const audience = list(env, 'JWT_AUDIENCE')
  if (!issuer) throw new TypeError('jwtguard: no options given and environment variable JWT_ISSUER is not set')
  if (!audience) throw new TypeError('jwtguard: no options given and environment variable JWT_AUDIENCE is not set')
  reportUnknown(env)
  const options: GuardOptions = { issuer: one(issuer) as string | string[], audience: one(audience), ...preset(env) }
  if (env.JWT_JWKS_URI) options.jwksUri = env.JWT_JWKS_URI
  if (env.JWT_SECRET) options.secret = env.JWT_SECRET
  const algorithms = list(env, 'JWT_ALGORITHMS')
  if (algorithms) options.algorithms = algorithms as JwsAlgorithm[]
  const scopeClaim = list(env, 'JWT_SCOPE_CLAIM')
  if (scopeClaim) options.scopeClaim = scopeClaim
  const rolesClaim = list(env, 'JWT_ROLES_CLAIM')
  if (rolesClaim) options.rolesClaim = rolesClaim
  if (env.JWT_TYP?.trim()) options.typ = env.JWT_TYP.trim()
  const tolerance = seconds(env, 'JWT_CLOCK_TOLERANCE')
  if (tolerance !== undefined) options.clockTolerance = tolerance
  const maxAge = seconds(env, 'JWT_MAX_TOKEN_AGE')
  if (maxAge !== undefined) options.maxTokenAge = maxAge
  const required = list(env, 'JWT_REQUIRED_CLAIMS')
  if (required) options.requiredClaims = required
  const sources = tokenFrom(env)
  if (sources) options.tokenFrom = sources
  const dpopOption = dpop(env)
  if (dpopOption !== undefined) options.dpop = dpopOption
  return options
}
