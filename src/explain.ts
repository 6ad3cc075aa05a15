import { decodeJsonSegment } from './intake/token.js'
import type { IssuerPolicy } from './claims/validate.js'
import type { GuardError, GuardErrorCode } from './errors.js'
import { ERROR_TABLE, EXPLAIN_CHECKS, type ExplainCheck } from './error-table.js'
import { humanDuration, iso, list, MALFORMED_REASONS, printable } from './explain/text.js'

export { humanDuration, MALFORMED_REASONS, printable }

/** One check of the verification pipeline, as `guard.explain()` reports it. */
export interface ExplainStep {
  check: ExplainCheck
  /** `true` passed, `false` failed, `undefined` not run (an earlier check failed). */
  ok: boolean | undefined
  /** One line for a person: the exact reason when it failed. Control and bidi characters from the token are escaped. */
  detail: string
}

export interface Explanation {
  ok: boolean
  code: GuardErrorCode | undefined
  steps: ExplainStep[]
  /** Decoded, UNTRUSTED unless `ok`. */
  header: Record<string, unknown> | undefined
  payload: Record<string, unknown> | undefined
}

/** What explanations read from the guard's settings. */
export interface ExplainContext {
  algorithms: readonly string[]
  typ: string | undefined
  issuers: ReadonlyMap<string, IssuerPolicy>
  audienceClaim: string
  kids(issuer: IssuerPolicy): string[]
}

const ORDER: readonly ExplainCheck[] = EXPLAIN_CHECKS
/** Checks a token alone never meets (they need a request or a route): shown only when they failed. */
const ON_REQUEST: ReadonlySet<ExplainCheck> = new Set(['request', 'dpop-proof', 'binding', 'authorization'])

/** The intake's own decoder, minus its error: an explanation shows what it can. */
function decode(segment: string | undefined): Record<string, unknown> | undefined {
  try {
    return decodeJsonSegment(segment ?? '', 'segment')
  } catch {
    return undefined
  }
}

/** The check a failure belongs to: the table's, refined where the error says which claim or callback. */
function stepOf(err: GuardError): ExplainCheck {
  const { claim, callback } = err.context
  if (err.code === 'ERR_JWT_CLAIM_MISSING' || err.code === 'ERR_JWT_CLAIM_INVALID')
    return claim === 'exp' ? 'expiry' : claim === 'nbf' ? 'not-before' : claim === 'iat' ? 'issued-at' : 'claims'
  if (err.code === 'ERR_CALLBACK_FAILED')
    return callback === 'getKey' ? 'key' : callback === 'isRevoked' || callback === 'revocation' ? 'revocation' : 'claims'
  return ERROR_TABLE[err.code].step
}

const kidText = (header: Record<string, unknown> | undefined): string =>
  header?.kid === undefined ? 'no kid (every key of that type tried)' : `kid ${JSON.stringify(header.kid)}`

function failureDetail(
  token: string,
  err: GuardError,
  ctx: ExplainContext,
  header: Record<string, unknown> | undefined,
  payload: Record<string, unknown> | undefined,
): string {
  const now = Date.now() / 1000
  const issuer = typeof payload?.iss === 'string' ? ctx.issuers.get(payload.iss) : undefined
  switch (err.code) {
    case 'ERR_JWT_ALG_NOT_ALLOWED':
      return `algorithm ${JSON.stringify(header?.alg)} is not allowed (allowed: ${ctx.algorithms.join(', ')})`
    case 'ERR_JWT_TYP_INVALID':
      return `${header?.typ === undefined ? 'no typ header' : `typ ${JSON.stringify(header.typ)}`} where ${JSON.stringify(ctx.typ)} is required`
    case 'ERR_JWT_MALFORMED':
      return `malformed: ${MALFORMED_REASONS[String(err.context.reason)] ?? err.message}`
    case 'ERR_JWT_TOO_LARGE':
      return `${token.length} bytes, over maxTokenLength`
    case 'ERR_JWE_NOT_SUPPORTED':
      return 'the token is a JWE and the guard has no decryption keys'
    case 'ERR_JWT_ISSUER_INVALID':
      return `issuer ${JSON.stringify(payload?.iss)} is not allowed (expected ${list(ctx.issuers.keys())})`
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return `no key for ${kidText(header)} and alg ${JSON.stringify(header?.alg)} (the key set has kids: ${issuer ? list(ctx.kids(issuer)) : 'unknown'})`
    case 'ERR_JWT_SIGNATURE_INVALID':
      return `the signature does not verify with the key for ${kidText(header)}: the token was altered or signed by another key`
    case 'ERR_JWT_AUDIENCE_INVALID': {
      const aud = payload?.[ctx.audienceClaim]
      const expected = issuer ? list(issuer.audiences) : 'unknown'
      return aud === undefined
        ? `no ${JSON.stringify(ctx.audienceClaim)} claim (expected ${expected})`
        : `audience ${JSON.stringify(aud)} is not accepted (expected ${expected})`
    }
    case 'ERR_JWT_EXPIRED':
      return `expired ${humanDuration(now - (payload?.exp as number))} ago (exp ${iso(payload?.exp)})`
    case 'ERR_JWT_NOT_YET_VALID':
      return `not valid for another ${humanDuration((payload?.nbf as number) - now)} (nbf ${iso(payload?.nbf)})`
    case 'ERR_JWT_ISSUED_IN_FUTURE':
      return `issued ${humanDuration((payload?.iat as number) - now)} in the future (iat ${iso(payload?.iat)}): check the clocks`
    case 'ERR_JWT_TOO_OLD':
      return `issued ${humanDuration(now - (payload?.iat as number))} ago, older than maxTokenAge`
    case 'ERR_JWT_SCHEMA_INVALID':
      return `claims do not match claimsSchema at ${JSON.stringify(err.context.path ?? '')}`
    case 'ERR_CALLBACK_FAILED':
      return `your ${String(err.context.callback ?? 'callback')} failed (a ${err.status}, see the error's cause): the token was not judged`
    case 'ERR_JWKS_UNAVAILABLE':
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_DISCOVERY_FAILED':
      if (err.context.reason === 'issuer_mismatch')
        return `the discovery document names issuer ${JSON.stringify(err.context.documentIssuer)}, not the configured ${JSON.stringify(err.context.configuredIssuer)} (they must be equal, trailing slash included)`
      return `could not fetch the key set (${String(err.context.reason ?? 'unknown')}); no key held, so the token was not judged`
    default: {
      const reason =
        typeof err.context.reason === 'string' ? ` (${err.context.reason}${err.context.claim ? `: ${err.context.claim}` : ''})` : ''
      return `${err.message}${reason}`
    }
  }
}

function passDetail(
  check: ExplainStep['check'],
  header: Record<string, unknown> | undefined,
  payload: Record<string, unknown> | undefined,
): string {
  const now = Date.now() / 1000
  switch (check) {
    case 'format':
      return 'compact, canonical base64url'
    case 'algorithm':
      return `alg ${String(header?.alg)}`
    case 'type':
      return `typ ${JSON.stringify(header?.typ)}`
    case 'issuer':
      return `iss ${JSON.stringify(payload?.iss)}`
    case 'key':
      return kidText(header)
    case 'audience':
      return `aud ${JSON.stringify(payload?.aud)}`
    case 'expiry':
      return typeof payload?.exp === 'number' ? `expires in ${humanDuration(payload.exp - now)} (${iso(payload.exp)})` : 'ok'
    default:
      return 'ok'
  }
}

/** Builds the explanation of one verification outcome; every claim shown is the token's own, decoded. */
export function explainOutcome(token: string, error: GuardError | undefined, ctx: ExplainContext): Explanation {
  const segments = typeof token === 'string' ? token.split('.') : []
  const encrypted = segments.length === 5
  const header = decode(segments[0])
  // A JWE's claims are ciphertext: nothing to show until it decrypts (the guard fills them in on success).
  const payload = encrypted ? undefined : decode(segments[1])
  const failed = error ? stepOf(error) : undefined
  const failedAt = failed ? ORDER.indexOf(failed) : ORDER.length
  const steps: ExplainStep[] = []
  ORDER.forEach((check, i) => {
    if (check === 'decryption' && !encrypted && failed !== 'decryption') return
    if (ON_REQUEST.has(check) && failed !== check) return
    if (check === 'type' && ctx.typ === undefined && failed !== 'type') return
    // Details quote the token's own strings: one printable line each, wherever they are shown.
    if (i < failedAt) steps.push({ check, ok: true, detail: printable(passDetail(check, header, payload)) })
    else if (i === failedAt) steps.push({ check, ok: false, detail: printable(failureDetail(String(token), error!, ctx, header, payload)) })
    else steps.push({ check, ok: undefined, detail: 'not checked' })
  })
  return { ok: !error, code: error?.code, steps, header, payload }
}
