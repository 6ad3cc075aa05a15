import { readFileSync } from 'node:fs'
import { presets, type PresetName } from '../authz/presets.js'
import { optionsFromEnv } from '../env.js'
import type { GuardEvent } from '../events.js'
import { createGuard, type Guard } from '../guard.js'
import type { GuardOptions } from '../options.js'
import { DEFAULT_IDENTITY_HEADERS, identitySettings, type IdentitySettings } from './identity.js'
import { didYouMean, isObject, unknownFields } from './names.js'
import { compileRoutes, type Route } from './routes.js'
import { compileTrust, DEFAULT_TRUSTED_PROXIES } from './trust.js'

/** A validated gateway configuration, with its guard built. */
export interface ServeConfig {
  listen: { host: string; port: number }
  trusts: (address: string | undefined) => boolean
  guard: Guard
  routes: readonly Route[]
  /** For paths no rule matches: 403 (`deny`), or any valid token (`authenticate`). */
  fallback: 'deny' | 'authenticate'
  identity: IdentitySettings
}

/** Every problem of a configuration, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

const TOP_FIELDS = ['listen', 'trustedProxies', 'publicOrigin', 'guard', 'routes', 'default', 'headers', 'claimHeaders']
/** The `createGuard` options a JSON file can express; `preset` is the config's own. */
const GUARD_FIELDS = [
  'preset',
  'issuer',
  'audience',
  'jwksUri',
  'jwks',
  'publicKey',
  'secret',
  'algorithms',
  'typ',
  'clockTolerance',
  'maxTokenAge',
  'audienceClaim',
  'jtiClaim',
  'expectedClaims',
  'requiredClaims',
  'tokenFrom',
  'scopeClaim',
  'rolesClaim',
  'claimVariables',
  'realm',
  'jwksCache',
  'decryption',
  'cache',
  'dpop',
  'resourceMetadata',
  'maxTokenLength',
]
const NOT_IN_JSON: Record<string, string> = {
  authRequired: 'is decided per route here: give a rule "auth": false',
  getKey: 'is a function: not available in a config file',
  isRevoked: 'is a function: not available in a config file',
  revocation: 'needs a store object: not available in a config file',
  onEvent: 'is set by jwtguard serve (metrics)',
  claimsSchema: 'is a schema object: not available in a config file',
  mtls: "is not supported in gateway mode yet: the TLS connection /verify sees is the proxy's, not the client's",
}
const PRESET_ARGUMENTS: Record<PresetName, string[]> = {
  auth0: ['rolesClaim'],
  okta: [],
  entra: [],
  keycloak: ['clientId'],
  cognito: [],
  rfc9068: [],
}

function listenOf(value: unknown, problems: string[]): { host: string; port: number } {
  const listen = { host: '127.0.0.1', port: 8080 }
  if (value === undefined) return listen
  if (!isObject(value)) {
    problems.push('listen must be an object such as { "host": "127.0.0.1", "port": 8080 }')
    return listen
  }
  problems.push(...unknownFields(value, ['host', 'port'], 'listen'))
  if (value.host !== undefined) {
    if (typeof value.host !== 'string' || value.host === '') problems.push('listen.host must be an address such as "127.0.0.1"')
    else listen.host = value.host
  }
  if (value.port !== undefined) {
    if (!Number.isInteger(value.port) || (value.port as number) < 0 || (value.port as number) > 65535)
      problems.push('listen.port must be an integer from 0 (any free port) to 65535')
    else listen.port = value.port as number
  }
  return listen
}

/** `"keycloak"` or `{ "name": "keycloak", "clientId": "orders-api" }`: the preset's options. */
function presetOf(value: unknown, problems: string[]): Partial<GuardOptions> {
  const spec = typeof value === 'string' ? { name: value } : value
  if (!isObject(spec) || typeof spec.name !== 'string') {
    problems.push('guard.preset must be a preset name or { "name": …, its options }')
    return {}
  }
  const known = Object.keys(presets)
  if (!known.includes(spec.name)) {
    problems.push(`guard.preset: unknown preset "${spec.name}"${didYouMean(spec.name, known)}`)
    return {}
  }
  const name = spec.name as PresetName
  const { name: _, ...args } = spec
  const before = problems.length
  problems.push(...unknownFields(args, PRESET_ARGUMENTS[name], `guard.preset (${name})`))
  for (const [key, v] of Object.entries(args))
    if (typeof v !== 'string' || v === '') problems.push(`guard.preset (${name}): "${key}" must be a non-empty string`)
  if (problems.length > before) return {}
  return (presets[name] as (o: Record<string, unknown>) => Partial<GuardOptions>)(args)
}

function guardOptionsOf(value: unknown, publicOrigin: unknown, problems: string[]): GuardOptions | undefined {
  if (!isObject(value)) {
    problems.push('guard is required: the createGuard options, e.g. { "issuer": "https://idp.example.com/", "audience": "…" }')
    return undefined
  }
  for (const key of Object.keys(value)) {
    if (NOT_IN_JSON[key]) problems.push(`guard.${key} ${NOT_IN_JSON[key]}`)
    else if (!GUARD_FIELDS.includes(key)) problems.push(`guard: unknown field "${key}"${didYouMean(key, GUARD_FIELDS)}`)
  }
  // The gateway is asked about the request's line and headers only: a body token would be a 500 on every form post.
  const sources = Array.isArray(value.tokenFrom) ? value.tokenFrom : [value.tokenFrom]
  if (sources.some((source) => isObject(source) && 'body' in source))
    problems.push('guard.tokenFrom: { body } cannot work in gateway mode: the proxy never forwards the request body to /verify')
  // Only the fields a config may set reach createGuard; the preset first, so that explicit fields win.
  const own = Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'preset' && GUARD_FIELDS.includes(key)))
  const options = { ...(value.preset === undefined ? {} : presetOf(value.preset, problems)), ...own } as GuardOptions
  return withOrigin(options, publicOrigin, problems)
}

/**
 * DPoP behind a gateway: the proof's `htu` names the public URL, which the
 * decision service cannot see, so the origin is always configured.
 */
function withOrigin(options: GuardOptions, publicOrigin: unknown, problems: string[]): GuardOptions {
  if (publicOrigin !== undefined && (typeof publicOrigin !== 'string' || !/^https?:\/\/[^/?#]+$/.test(publicOrigin)))
    problems.push('publicOrigin must be an origin such as "https://api.example.com" (no path)')
  const dpop = options.dpop
  if (dpop === undefined || dpop === false) return options
  const given = isObject(dpop) ? dpop : {}
  const origin = given.origin ?? publicOrigin
  if (typeof origin !== 'string') {
    problems.push('publicOrigin is required with guard.dpop: the DPoP proof names the public URL (htu), which the gateway hides')
    return options
  }
  return { ...options, dpop: { ...given, origin } }
}

/** Builds the guard; its TypeError (naming the option) becomes a problem. */
function buildGuard(options: GuardOptions, onEvent: ((e: GuardEvent) => void) | undefined, problems: string[]): Guard | undefined {
  try {
    return createGuard({ ...options, authRequired: true, ...(onEvent ? { onEvent } : {}) })
  } catch (err) {
    problems.push(`guard: ${(err instanceof Error ? err.message : String(err)).replace(/^jwtguard: /, '')}`)
    return undefined
  }
}

/** Validates a parsed config file (every problem at once) and builds its guard. Throws a `ConfigError`. */
export function parseConfig(json: unknown, onEvent?: (e: GuardEvent) => void): ServeConfig {
  if (!isObject(json)) throw new ConfigError(['the configuration must be a JSON object'])
  const problems = unknownFields(json, TOP_FIELDS, 'config')
  const listen = listenOf(json.listen, problems)
  const trust = compileTrust(json.trustedProxies ?? DEFAULT_TRUSTED_PROXIES, 'trustedProxies')
  problems.push(...trust.errors)
  const options = guardOptionsOf(json.guard, json.publicOrigin, problems)
  const routes = compileRoutes(json.routes, problems)
  const fallback = json.default ?? 'authenticate'
  if (fallback !== 'deny' && fallback !== 'authenticate') problems.push('default must be "deny" or "authenticate"')
  const identity = identitySettings(json.headers, json.claimHeaders, problems)
  const guard = options && buildGuard(options, onEvent, problems)
  if (problems.length > 0 || !guard) throw new ConfigError(problems)
  return { listen, trusts: trust.trusts, guard, routes, fallback: fallback as ServeConfig['fallback'], identity }
}

/** The guard from the `JWT_*` environment alone: no rules, any valid token passes. */
export function configFromEnv(env: Record<string, string | undefined>, onEvent?: (e: GuardEvent) => void): ServeConfig {
  let options: GuardOptions
  try {
    options = optionsFromEnv(env)
  } catch (err) {
    throw new ConfigError([(err instanceof Error ? err.message : String(err)).replace(/^jwtguard: /, '')])
  }
  const problems: string[] = []
  const guard = buildGuard(options, onEvent, problems)
  if (!guard) throw new ConfigError(problems)
  const trust = compileTrust(DEFAULT_TRUSTED_PROXIES, 'trustedProxies')
  return {
    listen: { host: '127.0.0.1', port: 8080 },
    trusts: trust.trusts,
    guard,
    routes: [],
    fallback: 'authenticate',
    identity: { ...DEFAULT_IDENTITY_HEADERS, claims: [] },
  }
}

/** Reads and validates `file` (or the environment when there is none). Throws a `ConfigError`. */
export function loadConfig(file: string | undefined, env: Record<string, string | undefined>, onEvent?: (e: GuardEvent) => void) {
  if (file === undefined) return configFromEnv(env, onEvent)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError([`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`])
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ConfigError([`${file} is not JSON: ${(err as Error).message}`])
  }
  return parseConfig(json, onEvent)
}
