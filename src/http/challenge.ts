import { explicitStatus, withExplicitStatus } from '../callbacks.js'
import { GuardError } from '../errors.js'

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

// RFC 7230 quoted-string: escape backslash and double quote; drop control characters.
function quote(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/[\\"]/g, '\\$&')}"`
}

/**
 * Builds the `WWW-Authenticate` value for an error (RFC 6750 §3, RFC 9449 §7.1),
 * or `undefined` for a 5xx. A failure on a DPoP request (or any DPoP error)
 * is answered with the DPoP scheme; otherwise with Bearer, plus a DPoP
 * challenge when DPoP is accepted too.
 */
export function bearerChallenge(err: GuardError, settings: ChallengeSettings, scheme?: 'Bearer' | 'DPoP'): string | undefined {
  if (err.status >= 500) return undefined
  const params = [`realm=${quote(settings.realm)}`]
  if (err.challenge) {
    params.push(`error=${quote(err.challenge)}`, `error_description=${quote(err.message)}`)
    if (err.code === 'ERR_JWT_INSUFFICIENT_SCOPE' && err.context.scope) params.push(`scope=${quote(err.context.scope.join(' '))}`)
  }
  // 401s, and 403 insufficient_scope (MCP authorization: the client may step up with the metadata's scopes).
  if (settings.resourceMetadataUrl && (err.status === 401 || err.code === 'ERR_JWT_INSUFFICIENT_SCOPE'))
    params.push(`resource_metadata=${quote(settings.resourceMetadataUrl)}`)
  const algs = settings.dpopAlgorithms ? `algs=${quote(settings.dpopAlgorithms.join(' '))}` : undefined
  if (algs && (scheme === 'DPoP' || settings.dpopRequired || err.code.startsWith('ERR_DPOP_')))
    return `DPoP ${[...params, algs].join(', ')}`
  const bearer = `Bearer ${params.join(', ')}`
  return algs ? `${bearer}, DPoP ${algs}` : bearer
}

/** Sets the challenge header on a `GuardError` (idempotent) and returns it. */
export function withChallenge(err: GuardError, settings: ChallengeSettings = DEFAULT_SETTINGS, scheme?: 'Bearer' | 'DPoP'): GuardError {
  const value = bearerChallenge(err, settings, scheme)
  if (value) err.headers['WWW-Authenticate'] = value
  return err
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
