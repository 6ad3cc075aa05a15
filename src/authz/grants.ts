import { callbackError, isThenable, promiseReturned } from '../callbacks.js'
import { optionError } from '../option-error.js'

/**
 * How scopes or roles are read from claims: a claim name (`cognito:groups`,
 * `https://example.com/roles` — tried whole first), a dotted path
 * (`realm_access.roles`), a path with `{var}` segments filled from
 * `claimVariables` (`resource_access.{clientId}.roles`), a path given as an
 * array of segments inside the list (`[['resource_access', 'orders.api', 'roles']]`,
 * for keys that contain dots), a list of those, or a function of the verified payload.
 * Grants from several paths are merged.
 */
export type ClaimReader = string | readonly ClaimPath[] | ((payload: Record<string, unknown>) => unknown)

/** One claim location: a name or dotted path, or explicit segments. */
export type ClaimPath = string | readonly string[]

/** A reader compiled once at construction. */
export type GrantReader = (payload: Record<string, unknown>) => string[]

const EMPTY: string[] = []

/**
 * The grants of one claim value: a space-delimited string or an array of
 * strings. Anything else (numbers, objects, nested arrays, strings that are not
 * well-formed Unicode) grants nothing at all, so a malformed claim can never
 * widen access.
 */
export function grantsOf(value: unknown): string[] {
  if (typeof value === 'string') {
    // RFC 6749 §3.3: scope-token *( SP scope-token ): a stray leading, trailing or double space is malformed.
    if (!value.isWellFormed()) return EMPTY
    if (value === '') return EMPTY
    const parts = value.split(' ')
    return parts.includes('') ? EMPTY : parts
  }
  if (!Array.isArray(value)) return EMPTY
  for (const item of value) if (typeof item !== 'string' || !item.isWellFormed()) return EMPTY
  return (value as string[]).filter((s) => s !== '')
}

/** Reads a dotted path through own properties only (no prototype keys such as `constructor`). */
function readPath(payload: Record<string, unknown>, path: readonly string[]): unknown {
  let node: unknown = payload
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

function splitPath(path: string, variables: Readonly<Record<string, string>>, option: string): string[] {
  // A claim name that itself contains a dot or colon (`cognito:groups`, `https://x/roles`) is
  // tried whole first by the caller; here dots separate segments.
  return path.split('.').map((segment) => {
    const template = /^\{(\w+)\}$/.exec(segment)
    if (!template) return segment
    const value = variables[template[1]!]
    if (value === undefined) throw optionError(option, `uses {${template[1]}} but claimVariables has no "${template[1]}"`)
    return value
  })
}

/** Compiles a `ClaimReader` into a function; paths are split once, here. */
export function compileReader(reader: ClaimReader, variables: Readonly<Record<string, string>>, option: string): GrantReader {
  if (typeof reader === 'function') {
    const callback = option === 'rolesClaim' ? 'rolesClaim' : 'scopeClaim'
    return (payload) => {
      let value: unknown
      try {
        value = reader(payload)
        if (!isThenable(value)) return grantsOf(value)
      } catch (err) {
        // The reader's bug (or a hostile value it returned) is the server's fault, never a refused token.
        throw callbackError(err, callback)
      }
      // An async reader would grant nothing and leave its rejection unhandled.
      throw promiseReturned(value, callback)
    }
  }
  // A top-level array is always a list of paths (`['scope', 'scp']`); a path given as segments is wrapped: `[['a.b', 'c']]`.
  const list: readonly ClaimPath[] = typeof reader === 'string' ? [reader] : (reader as readonly ClaimPath[])
  if (!Array.isArray(list) || list.length === 0) throw optionError(option, 'must name claims')
  const paths = list.map((path) => {
    if (Array.isArray(path) && path.length > 0 && path.every((p) => typeof p === 'string' && p !== '')) {
      return { whole: '', segments: path as string[] }
    }
    if (typeof path !== 'string' || path === '') throw optionError(option, 'must name claims')
    return { whole: path, segments: splitPath(path, variables, option) }
  })
  return (payload) => {
    let out: string[] | undefined
    for (const { whole, segments } of paths) {
      const value = whole !== '' && Object.hasOwn(payload, whole) ? payload[whole] : readPath(payload, segments)
      const grants = grantsOf(value)
      if (grants.length === 0) continue
      if (!out) out = grants.slice()
      else for (const g of grants) if (!out.includes(g)) out.push(g)
    }
    return out ?? []
  }
}
