import type { AuthInfo } from '../types.js'
import { isObject, isToken, unknownFields } from './names.js'

/** Header names of the identity given to the upstream on a 200. */
export interface IdentitySettings {
  subject: string
  scopes: string
  roles: string
  issuer: string
  /** `[header, claim]` pairs from `claimHeaders`. */
  claims: readonly (readonly [string, string])[]
}

export const DEFAULT_IDENTITY_HEADERS = {
  subject: 'X-Auth-Subject',
  scopes: 'X-Auth-Scopes',
  roles: 'X-Auth-Roles',
  issuer: 'X-Auth-Issuer',
}

// Names an identity header must not take: they frame or route the decision response itself.
const RESERVED_HEADERS = new Set([
  'connection',
  'content-length',
  'content-type',
  'date',
  'host',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'www-authenticate',
  'dpop-nonce',
])

function headerName(value: unknown, where: string, problems: string[], taken: Set<string>): string | undefined {
  if (!isToken(value)) {
    problems.push(`${where} must be a header name (letters, digits, "-")`)
    return undefined
  }
  const lower = value.toLowerCase()
  if (RESERVED_HEADERS.has(lower)) problems.push(`${where} must not be "${value}": that header frames the response itself`)
  else if (taken.has(lower)) problems.push(`${where} repeats the header "${value}"`)
  taken.add(lower)
  return value
}

/** Validates `headers` and `claimHeaders`; every problem found is pushed to `problems`. */
export function identitySettings(headers: unknown, claimHeaders: unknown, problems: string[]): IdentitySettings {
  const taken = new Set<string>()
  const names = { ...DEFAULT_IDENTITY_HEADERS }
  if (headers !== undefined && !isObject(headers)) problems.push('headers must be an object such as { "subject": "X-User" }')
  else if (headers) problems.push(...unknownFields(headers, Object.keys(names), 'headers'))
  for (const key of Object.keys(names) as (keyof typeof names)[]) {
    const given = isObject(headers) && headers[key] !== undefined ? headers[key] : names[key]
    names[key] = headerName(given, `headers.${key}`, problems, taken) ?? names[key]
  }
  const claims: [string, string][] = []
  if (claimHeaders !== undefined && !isObject(claimHeaders))
    problems.push('claimHeaders must be an object of header name to claim name, such as { "X-Auth-Tenant": "tid" }')
  else if (claimHeaders)
    for (const [header, claim] of Object.entries(claimHeaders)) {
      const name = headerName(header, `claimHeaders["${header}"]`, problems, taken)
      if (typeof claim !== 'string' || claim === '') problems.push(`claimHeaders["${header}"] must name a claim`)
      else if (name) claims.push([name, claim])
    }
  return { ...names, claims }
}

/** Why a value was left out of its header, for the log. */
export type OmittedHeader = { header: string; claim: string; reason: string }

// RFC 9110 §5.5 field value, restricted to visible ASCII and inner spaces: no line break, no control, no
// obs-text (which proxies read as Latin-1 and re-encode as they please).
const FIELD_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
    return value.join(' ')
  return undefined
}

/**
 * The identity headers of a verified token, as a flat `[name, value, …]` list
 * for `writeHead`: every configured name, empty when the token has no value
 * for it (gateways such as Caddy 2.6 copy a missing header as a literal
 * placeholder, an empty one as empty; nginx sends no header for an empty
 * value). A value that cannot travel as a header value is left empty (and
 * reported through `omitted`), never sent.
 */
/** Every identity header, empty: the answer for a route without authentication. */
export function anonymousHeaders(settings: IdentitySettings): string[] {
  return [settings.subject, settings.scopes, settings.roles, settings.issuer, ...settings.claims.map(([h]) => h)].flatMap((h) => [h, ''])
}

export function identityHeaders(settings: IdentitySettings, auth: AuthInfo<unknown>, omitted: (o: OmittedHeader) => void): string[] {
  const payload = auth.payload as Record<string, unknown>
  const out: string[] = []
  const add = (header: string, claim: string, value: unknown): void => {
    const v = value === undefined ? '' : text(value)
    let safe = ''
    if (v === undefined) omitted({ header, claim, reason: 'not a string, number, boolean or array of them' })
    else if (v !== '' && !FIELD_VALUE.test(v)) omitted({ header, claim, reason: 'a line break, control or non-ASCII character' })
    else safe = v
    out.push(header, safe)
  }
  const claim = (name: string): unknown => (Object.hasOwn(payload, name) ? payload[name] : undefined)
  add(settings.subject, 'sub', claim('sub'))
  add(settings.scopes, 'scopes', auth.scopes)
  add(settings.roles, 'roles', auth.roles)
  add(settings.issuer, 'iss', claim('iss'))
  for (const [header, name] of settings.claims) add(header, name, claim(name))
  return out
}
