import { explicitStatus, withExplicitStatus } from '../callbacks.js'
import { GuardError, withHeaders } from '../errors.js'

/** What the HTTP layer needs to write a challenge, fixed at construction. */
export interface ChallengeSettings {
  realm: string
  /** RFC 9728 metadata URL added as `resource_metadata` to 401 challenges. */
  resourceMetadataUrl?: string | undefined
  /** DPoP algorithms, when DPoP is accepted: a `DPoP algs="…"` challenge is added (RFC 9449 §7.1). */
  dpopAlgorithms?: string[] | undefined
  /** DPoP only: no Bearer challenge at all. */
  dpopRequired?: boolean
}

const DEFAULT_SETTINGS: ChallengeSettings = { realm: 'api' }

/** RFC 6750 §3: the characters of `error_description` (and, sanely, of `realm`): printable ASCII but `"` and `\`. */
export const CHALLENGE_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/
/** RFC 6749 §3.3 scope-token (NQCHAR): as above, without the space. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

// Messages are short; a longer one carries a name the token chose, and a client's header parser has limits.
const MAX_TEXT = 200

/**
 * A parameter value within RFC 6750 §3's characters. Whatever a message holds (a
 * claim name, a schema path the token chose), it reaches the header only this
 * way: `"` becomes `'`, anything else outside the set its UTF-8 bytes as `%XX`.
 * So no value needs quoted-string escapes, and none can make `setHeader` throw.
 */
function text(value: string): string {
  let out = ''
  for (const char of value.slice(0, MAX_TEXT)) {
    if (char === '"') out += "'"
    else if (CHALLENGE_TEXT.test(char)) out += char
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** The `scope` value: the scope-tokens among `scopes`, single-space separated (others cannot be said in it). */
function scopeValue(scopes: readonly unknown[]): string {
  return scopes.filter((s): s is string => typeof s === 'string' && SCOPE_TOKEN.test(s)).join(' ')
}

/**
 * Builds the `WWW-Authenticate` value for an error (RFC 6750 §3, RFC 9449 §7.1),
 * or `undefined` for a 5xx. A failure on a DPoP request (or any DPoP error)
 * is answered with the DPoP scheme; otherwise with Bearer, plus a DPoP
 * challenge when DPoP is accepted too.
 */
export function bearerChallenge(err: GuardError, settings: ChallengeSettings, scheme?: 'Bearer' | 'DPoP'): string | undefined {
  if (err.status >= 500) return undefined
  const params = [`realm="${text(settings.realm)}"`]
  if (err.challenge) {
    params.push(`error="${err.challenge}"`, `error_description="${text(err.message)}"`)
    const scope = err.code === 'ERR_JWT_INSUFFICIENT_SCOPE' && Array.isArray(err.context.scope) ? scopeValue(err.context.scope) : ''
    if (scope) params.push(`scope="${scope}"`)
  }
  // 401s, and 403 insufficient_scope (MCP authorization: the client may step up with the metadata's scopes).
  if (settings.resourceMetadataUrl && (err.status === 401 || err.code === 'ERR_JWT_INSUFFICIENT_SCOPE'))
    params.push(`resource_metadata="${text(settings.resourceMetadataUrl)}"`)
  const algs = settings.dpopAlgorithms ? `algs="${text(settings.dpopAlgorithms.join(' '))}"` : undefined
  if (algs && (scheme === 'DPoP' || settings.dpopRequired || err.code.startsWith('ERR_DPOP_')))
    return `DPoP ${[...params, algs].join(', ')}`
  const bearer = `Bearer ${params.join(', ')}`
  return algs ? `${bearer}, DPoP ${algs}` : bearer
}

/**
 * The error to answer one response with: a copy of `err` carrying its challenge
 * (and `extra` headers), never `err` itself, which other requests may share.
 */
export function withChallenge(
  err: GuardError,
  settings: ChallengeSettings = DEFAULT_SETTINGS,
  scheme?: 'Bearer' | 'DPoP',
  extra?: Record<string, string>,
): GuardError {
  const headers: Record<string, string> = { ...err.headers, ...extra }
  const value = bearerChallenge(err, settings, scheme)
  if (value) headers['WWW-Authenticate'] = value
  return withHeaders(err, headers)
}

/**
 * Turns anything thrown inside the guard into a `GuardError`, so adapters only
 * ever see one kind. An error that asks for an HTTP status (an `http-errors`
 * error a route check threw) keeps it.
 */
export function asGuardError(err: unknown): GuardError {
  if (err instanceof GuardError) return err
  const status = explicitStatus(err)
  if (status !== undefined) return withExplicitStatus(err as object, status, undefined)
  return new GuardError('ERR_JWT_MALFORMED', 'Invalid token', { reason: 'unexpected' }, { cause: err })
}
