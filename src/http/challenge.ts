import { GuardError } from '../errors.js'

/** What the HTTP layer needs to write a challenge, fixed at construction. */
export interface ChallengeSettings {
  realm: string
  /** RFC 9728 metadata URL added as `resource_metadata` to 401 challenges. */
  resourceMetadataUrl?: string | undefined
}

const DEFAULT_SETTINGS: ChallengeSettings = { realm: 'api' }

// RFC 7230 quoted-string: escape backslash and double quote; drop control characters.
function quote(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/[\\"]/g, '\\$&')}"`
}

/** Builds the RFC 6750 §3 `WWW-Authenticate` value for an error, or `undefined` for a 503. */
export function bearerChallenge(err: GuardError, settings: ChallengeSettings): string | undefined {
  if (err.status === 503 || err.status >= 500) return undefined
  const params = [`realm=${quote(settings.realm)}`]
  if (err.challenge) {
    params.push(`error=${quote(err.challenge)}`, `error_description=${quote(err.message)}`)
    if (err.code === 'ERR_JWT_INSUFFICIENT_SCOPE' && err.context.scope) params.push(`scope=${quote(err.context.scope.join(' '))}`)
  }
  if (settings.resourceMetadataUrl && err.status === 401) params.push(`resource_metadata=${quote(settings.resourceMetadataUrl)}`)
  return `Bearer ${params.join(', ')}`
}

/** Sets the challenge header on a `GuardError` (idempotent) and returns it. */
export function withChallenge(err: GuardError, settings: ChallengeSettings = DEFAULT_SETTINGS): GuardError {
  const value = bearerChallenge(err, settings)
  if (value) err.headers['WWW-Authenticate'] = value
  return err
}

/** Turns anything thrown inside the guard into a `GuardError`, so adapters only ever see one kind. */
export function asGuardError(err: unknown): GuardError {
  if (err instanceof GuardError) return err
  return new GuardError('ERR_JWT_MALFORMED', 'Invalid token', { reason: 'unexpected' }, { cause: err })
}
