import { requireClaims, requireRoles, requireScopes, type AuthCheck, type ClaimExpectations } from '../authz/checks.js'
import { isToken, unknownFields } from './names.js'

/** A compiled route rule: `match` as written, and what the request must hold. */
export interface Route {
  /** `routes[i] ("GET /orders/*")`, for logs and errors. */
  readonly name: string
  readonly match: string
  /** `undefined`: any method. */
  readonly method: string | undefined
  /** The path, or the part before a final `*`. */
  readonly path: string
  /** Whether the glob ended in `*` (then any rest of the path matches). */
  readonly prefix: boolean
  /** `false`: no token needed, no identity given. */
  readonly auth: boolean
  readonly checks: readonly AuthCheck[]
}

const ROUTE_FIELDS = ['match', 'auth', 'scopes', 'roles', 'claims', 'mode']
const SCALAR = new Set(['string', 'number', 'boolean'])
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/
// eslint-disable-next-line no-control-regex
const NOT_IN_GLOB = /[\u0000-\u0020\u007f?#%\\]/

const isNames = (value: unknown, spaces: boolean): value is string[] =>
  Array.isArray(value) &&
  value.length > 0 &&
  value.every((v) => typeof v === 'string' && v !== '' && (spaces || !v.includes(' ')) && !CONTROL.test(v))

function isClaims(value: unknown): value is ClaimExpectations {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) return false
  return Object.values(value).every((v) => (Array.isArray(v) ? v.length > 0 && v.every((e) => SCALAR.has(typeof e)) : SCALAR.has(typeof v)))
}

/** Parses `"METHOD /glob"`; returns the problem in words, or the parts. */
function parseMatch(match: string): string | { method: string | undefined; path: string; prefix: boolean } {
  const parts = match.split(' ')
  if (parts.length !== 2) return 'must be "METHOD /path" or "* /path" (one space between)'
  const [method, glob] = parts as [string, string]
  if (method !== '*' && !isToken(method)) return `has an invalid method "${method}"`
  if (!glob.startsWith('/')) return 'must have a path starting with "/"'
  if (NOT_IN_GLOB.test(glob)) return 'must have a decoded path without spaces, "?", "#", "%" or "\\"'
  const star = glob.indexOf('*')
  if (star !== -1 && star !== glob.length - 1) return 'may have "*" only at the end of its path'
  if (glob.split('/').some((segment) => segment === '.' || segment === '..')) return 'must not have "." or ".." segments'
  return { method: method === '*' ? undefined : method, path: star === -1 ? glob : glob.slice(0, -1), prefix: star !== -1 }
}

/** Validates and compiles `routes`; every problem found is pushed to `errors`. */
export function compileRoutes(value: unknown, errors: string[]): Route[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    errors.push('routes must be an array of rules')
    return []
  }
  const routes: Route[] = []
  value.forEach((rule: unknown, i) => {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      errors.push(`routes[${i}] must be an object such as { "match": "GET /orders/*", "scopes": ["orders:read"] }`)
      return
    }
    const r = rule as Record<string, unknown>
    const name = typeof r.match === 'string' ? `routes[${i}] (${JSON.stringify(r.match)})` : `routes[${i}]`
    const before = errors.length
    const fail = (field: string, message: string) => errors.push(`${name}: field "${field}" ${message}`)
    errors.push(...unknownFields(r, ROUTE_FIELDS, name))
    const parsed = typeof r.match === 'string' ? parseMatch(r.match) : 'is required: "METHOD /path" or "* /path"'
    if (typeof parsed === 'string') fail('match', parsed)
    if (r.auth !== undefined && typeof r.auth !== 'boolean') fail('auth', 'must be true or false')
    if (r.scopes !== undefined && !isNames(r.scopes, false)) fail('scopes', 'must be a non-empty array of scope names (no spaces)')
    if (r.roles !== undefined && !isNames(r.roles, true)) fail('roles', 'must be a non-empty array of role names')
    if (r.claims !== undefined && !isClaims(r.claims))
      fail('claims', 'must be an object of expected claim values (strings, numbers, booleans, or non-empty arrays of them)')
    if (r.mode !== undefined && r.mode !== 'all' && r.mode !== 'any') fail('mode', 'must be "all" or "any"')
    const grants = ['scopes', 'roles', 'claims', 'mode'].filter((f) => r[f] !== undefined)
    if (r.auth === false && grants.length > 0) fail(grants[0]!, 'cannot be set on a rule with "auth": false (no token is read)')
    if (r.mode !== undefined && r.scopes === undefined && r.roles === undefined) fail('mode', 'applies to "scopes" and "roles": set one')
    if (errors.length > before || typeof parsed === 'string') return
    const mode = { mode: (r.mode ?? 'all') as 'all' | 'any' }
    const checks: AuthCheck[] = []
    if (r.scopes) checks.push(requireScopes(r.scopes as string[], mode))
    if (r.roles) checks.push(requireRoles(r.roles as string[], mode))
    if (r.claims) checks.push(requireClaims(r.claims as ClaimExpectations))
    routes.push({ name, match: r.match as string, ...parsed, auth: r.auth !== false, checks })
  })
  return routes
}

/** The first rule for this method and normalised path. */
export function matchRoute(routes: readonly Route[], method: string, path: string): Route | undefined {
  for (const route of routes) {
    if (route.method !== undefined && route.method !== method) continue
    if (route.prefix ? path.startsWith(route.path) : path === route.path) return route
  }
  return undefined
}
