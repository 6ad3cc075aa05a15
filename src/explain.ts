import { decodeJsonSegment } from './intake/token.js'
import type { IssuerPolicy } from './claims/validate.js'
import type { GuardError, GuardErrorCode } from './errors.js'

/** One check of the verification pipeline, as `guard.explain()` reports it. */
export interface ExplainStep {
  check:
    | 'format'
    | 'decryption'
    | 'algorithm'
    | 'header'
    | 'type'
    | 'issuer'
    | 'key'
    | 'signature'
    | 'audience'
    | 'expiry'
    | 'not-before'
    | 'issued-at'
    | 'claims'
    | 'revocation'
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

/** Intake refusals in words (shared with `jwtguard inspect`). */
export const MALFORMED_REASONS: Readonly<Record<string, string>> = {
  segment_count: 'not 3 segments (JWS) or 5 (JWE)',
  not_base64url: 'a segment is not canonical base64url (padding, whitespace or a stray character)',
  header_not_json: 'the header is not JSON',
  header_not_object: 'the header is not a JSON object',
  payload_not_json: 'the payload is not JSON',
  payload_not_object: 'the payload is not a JSON object',
  alg_missing: 'the header has no "alg"',
  enc_missing: 'the JWE header has no "enc"',
  jwe_part_missing: 'a part of the JWE (iv, ciphertext or tag) is empty',
  jws_part_missing: 'the payload or the signature is empty',
  not_a_string: 'the token is not a string',
}

const ORDER: ExplainStep['check'][] = [
  'format',
  'decryption',
  'algorithm',
  'header',
  'type',
  'issuer',
  'key',
  'signature',
  'audience',
  'expiry',
  'not-before',
  'issued-at',
  'claims',
  'revocation',
]

// What must not reach a terminal from a token: C0 and C1 controls (ESC starts escape sequences; CSI is U+009B), DEL,
// bidi controls that reorder what is shown (U+061C, U+200E/F, U+202A–202E, U+2066–2069), line separators.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/**
 * One line safe for a terminal: each character above as `\u001b` (JSON's escape, so a line
 * of JSON stays JSON that parses to the same value).
 */
export function printable(line: string): string {
  return line.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** "3 h 2 min", "45 s", "2 d 4 h". */
export function humanDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds))
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ]
  const parts: string[] = []
  let rest = s
  for (const [size, name] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${name}`)
      rest %= size
    }
  }
  return parts.length ? parts.join(' ') : '0 s'
}

const iso = (epoch: unknown): string =>
  typeof epoch === 'number' && Number.isFinite(epoch) ? new Date(epoch * 1000).toISOString() : String(epoch)
const list = (values: Iterable<string>): string => [...values].map((v) => JSON.stringify(v)).join(', ') || 'none'

/** The intake's own decoder, minus its error: an explanation shows what it can. */
function decode(segment: string | undefined): Record<string, unknown> | undefined {
  try {
    return decodeJsonSegment(segment ?? '', 'segment')
  } catch {
    return undefined
  }
}

function stepOf(err: GuardError): ExplainStep['check'] {
  const claim = err.context.claim
  switch (err.code) {
    case 'ERR_JWT_TOO_LARGE':
    case 'ERR_JWT_MALFORMED':
      return 'format'
    case 'ERR_JWE_NOT_SUPPORTED':
    case 'ERR_JWE_REQUIRED':
    case 'ERR_JWE_DECRYPTION_FAILED':
    case 'ERR_JWE_INVALID':
      return 'decryption'
    case 'ERR_JWT_ALG_NOT_ALLOWED':
      return 'algorithm'
    case 'ERR_JWT_HEADER_INVALID':
      return 'header'
    case 'ERR_JWT_TYP_INVALID':
      return 'type'
    case 'ERR_JWT_ISSUER_INVALID':
      return 'issuer'
    case 'ERR_JWT_SIGNATURE_INVALID':
      return 'signature'
    case 'ERR_JWT_AUDIENCE_INVALID':
      return 'audience'
    case 'ERR_JWT_EXPIRED':
      return 'expiry'
    case 'ERR_JWT_NOT_YET_VALID':
      return 'not-before'
    case 'ERR_JWT_ISSUED_IN_FUTURE':
    case 'ERR_JWT_TOO_OLD':
      return 'issued-at'
    case 'ERR_JWT_REVOKED':
    case 'ERR_JWT_JTI_MISSING':
    case 'ERR_REVOCATION_UNAVAILABLE':
      return 'revocation'
    case 'ERR_JWT_CLAIM_MISSING':
    case 'ERR_JWT_CLAIM_INVALID':
      return claim === 'exp' ? 'expiry' : claim === 'nbf' ? 'not-before' : claim === 'iat' ? 'issued-at' : 'claims'
    case 'ERR_JWT_SCHEMA_INVALID':
    case 'ERR_JWT_CNF_UNSUPPORTED':
    case 'ERR_DPOP_BINDING_INVALID':
    case 'ERR_MTLS_BINDING_INVALID':
      return 'claims'
    case 'ERR_CALLBACK_FAILED': {
      const callback = err.context.callback
      return callback === 'getKey' ? 'key' : callback === 'isRevoked' || callback === 'revocation' ? 'revocation' : 'claims'
    }
    default:
      return 'key' // no matching key, or the key source is unavailable
  }
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
    if (check === 'type' && ctx.typ === undefined && failed !== 'type') return
    // Details quote the token's own strings: one printable line each, wherever they are shown.
    if (i < failedAt) steps.push({ check, ok: true, detail: printable(passDetail(check, header, payload)) })
    else if (i === failedAt) steps.push({ check, ok: false, detail: printable(failureDetail(String(token), error!, ctx, header, payload)) })
    else steps.push({ check, ok: undefined, detail: 'not checked' })
  })
  return { ok: !error, code: error?.code, steps, header, payload }
}
