import { decodeJsonSegment } from './intake/token.js'
import type { IssuerPolicy } from './claims/validate.js'
import type { GuardError, GuardErrorCode } from './errors.js'
import { EXPLAIN_CHECKS, type ExplainCheck } from './error-table.js'
import { stepOf } from './explain/step.js'
import type { Trace } from './verify/trace.js'
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
  /** What an accepted token grants, as `AuthInfo` has it. */
  scopes?: string[]
  roles?: string[]
}

/** What explanations read from the guard's settings. */
export interface ExplainContext {
  algorithms: readonly string[]
  typ: string | undefined
  issuers: ReadonlyMap<string, IssuerPolicy>
  audienceClaim: string
  kids(issuer: IssuerPolicy): string[]
  /** Whether a revocation check is configured. */
  revocable: boolean
}

const ORDER: readonly ExplainCheck[] = EXPLAIN_CHECKS
/** Checks of a request or a route, not of a token: shown when they ran. */
const ON_REQUEST: ReadonlySet<ExplainCheck> = new Set(['request', 'dpop-proof', 'authorization'])

/** The intake's own decoder, minus its error: an explanation shows what it can. */
function decode(segment: string | undefined): Record<string, unknown> | undefined {
  try {
    return decodeJsonSegment(segment ?? '', 'segment')
  } catch {
    return undefined
  }
}

const kidText = (header: Record<string, unknown> | undefined): string =>
  header?.kid === undefined ? 'no kid (every key of that type tried)' : `kid ${JSON.stringify(header.kid)}`

function failureDetail(
  token: string,
  err: GuardError,
  ctx: ExplainContext,
  trace: Trace,
  header: Record<string, unknown> | undefined,
  payload: Record<string, unknown> | undefined,
): string {
  const now = Date.now() / 1000
  const issuer = trace.issuer ?? (typeof payload?.iss === 'string' ? ctx.issuers.get(payload.iss) : undefined)
  switch (err.code) {
    case 'ERR_JWT_ALG_NOT_ALLOWED':
      // Refused by the issuer's own list once the issuer is known; by the guard's list before.
      if (trace.issuer)
        return `algorithm ${JSON.stringify(header?.alg)} is not allowed for issuer ${JSON.stringify(trace.issuer.issuer)} (its algorithms: ${[...trace.issuer.algorithms].join(', ')})`
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
    case 'ERR_MTLS_BINDING_INVALID': {
      const bound = `bound to a client certificate (cnf["x5t#S256"] ${JSON.stringify(err.context.expected)})`
      return err.context.reason === 'x5t_mismatch'
        ? `${bound}, but the client certificate presented has thumbprint ${JSON.stringify(err.context.presented)}`
        : `${bound}, and no client certificate was presented (none on the TLS connection or from a trusted proxy)`
    }
    case 'ERR_JWT_CNF_UNSUPPORTED':
      if (err.context.member === 'x5t#S256' && err.context.reason === 'cnf_unsupported')
        return 'bound to a client certificate (cnf["x5t#S256"]): this guard checks those only with the mtls option, and refuses them as bearer tokens without it'
      return `${err.message} (${String(err.context.reason)}${err.context.member === undefined ? '' : `: ${String(err.context.member)}`})`
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
    case 'binding': {
      // Passed with a certificate-bound token: the presented certificate's thumbprint is this one.
      const x5t = (payload?.cnf as Record<string, unknown> | undefined)?.['x5t#S256']
      return x5t === undefined ? 'ok' : `the client certificate's thumbprint is the token's cnf["x5t#S256"] ${JSON.stringify(x5t)}`
    }
    default:
      return 'ok'
  }
}

/**
 * The explanation of one run of the pipeline, from its trace: a check is shown
 * passed only if the stage ran it; the failed one with its exact reason; later
 * ones that would have run, as not checked. Claims shown are the ones judged
 * (a JWE's decrypted claims), UNTRUSTED unless it passed.
 */
export function explanation(trace: Trace, error: GuardError | undefined, ctx: ExplainContext): Explanation {
  const segments = typeof trace.token === 'string' ? trace.token.split('.') : []
  const header = trace.header ?? decode(segments[0])
  // A JWE's claims are ciphertext: nothing to show unless it decrypted.
  const payload = trace.payload ?? (segments.length === 5 ? undefined : decode(segments[1]))
  const failed = error ? stepOf(error) : undefined
  const failedAt = failed ? ORDER.indexOf(failed) : ORDER.length
  const steps: ExplainStep[] = []
  ORDER.forEach((check, i) => {
    // Details quote the token's own strings: one printable line each, wherever they are shown.
    if (check === failed) {
      const detail = failureDetail(String(trace.token), error!, ctx, trace, header, payload)
      steps.push({ check, ok: false, detail: printable(detail) })
    } else if (trace.passed.has(check)) steps.push({ check, ok: true, detail: printable(passDetail(check, header, payload)) })
    else if (i > failedAt && wouldRun(check, trace, ctx)) steps.push({ check, ok: undefined, detail: 'not checked' })
  })
  return { ok: !error, code: error?.code, steps, header, payload }
}

/** Whether a check not reached would have run for this token and guard. */
function wouldRun(check: ExplainCheck, trace: Trace, ctx: ExplainContext): boolean {
  if (check === 'decryption') return trace.encrypted
  if (check === 'type') return ctx.typ !== undefined
  if (check === 'revocation') return ctx.revocable
  return !ON_REQUEST.has(check)
}
