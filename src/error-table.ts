/** The RFC 6750 / RFC 9449 `error` parameter a failure carries in its challenge. */
export type ChallengeError = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce'

/** The checks of the pipeline, in the order they run, as `guard.explain()` names them. */
export const EXPLAIN_CHECKS = [
  'request',
  'format',
  'dpop-proof',
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
  'binding',
  'revocation',
  'authorization',
] as const

export type ExplainCheck = (typeof EXPLAIN_CHECKS)[number]

/** What one error code means, everywhere it is shown. */
export interface ErrorInfo {
  /** The HTTP status (a callback's explicit status overrides it for `ERR_CALLBACK_FAILED`). */
  readonly status: number
  /** The `error=` of its challenge; `undefined`: none (a bare challenge for 4xx, no header for 5xx). */
  readonly challenge: ChallengeError | undefined
  /** The check of `guard.explain()` it fails. */
  readonly step: ExplainCheck
  /** One line for a person. */
  readonly description: string
}

const invalid = 'invalid_token'

/**
 * Every stable error code jwtguard produces: the single source for `GuardError.status`
 * and `challenge`, for `ERROR_CODES`, for explanations and for the README's errors table.
 */
export const ERROR_TABLE = Object.freeze({
  ERR_JWT_MISSING: { status: 401, challenge: undefined, step: 'request', description: 'No token on a route that requires one.' },
  ERR_REQUEST_INVALID: {
    status: 400,
    challenge: 'invalid_request',
    step: 'request',
    description: 'The request itself is malformed (bad Authorization syntax, a token sent twice).',
  },
  ERR_JWT_TOO_LARGE: { status: 401, challenge: invalid, step: 'format', description: 'The token is longer than maxTokenLength.' },
  ERR_JWT_MALFORMED: { status: 401, challenge: invalid, step: 'format', description: 'Not a compact JWS or JWE.' },
  ERR_JWT_ALG_NOT_ALLOWED: { status: 401, challenge: invalid, step: 'algorithm', description: 'The alg is not one the issuer may use.' },
  ERR_JWT_TYP_INVALID: { status: 401, challenge: invalid, step: 'type', description: 'The typ header is not the required one.' },
  ERR_JWT_HEADER_INVALID: { status: 401, challenge: invalid, step: 'header', description: 'An unusable header (kid, crit, b64).' },
  ERR_JWT_SIGNATURE_INVALID: {
    status: 401,
    challenge: invalid,
    step: 'signature',
    description: 'No candidate key verifies the signature.',
  },
  ERR_JWKS_NO_MATCHING_KEY: { status: 401, challenge: invalid, step: 'key', description: "No key fits the token's kid and alg." },
  ERR_JWT_EXPIRED: { status: 401, challenge: invalid, step: 'expiry', description: 'exp is past, beyond clockTolerance.' },
  ERR_JWT_NOT_YET_VALID: { status: 401, challenge: invalid, step: 'not-before', description: 'nbf is in the future.' },
  ERR_JWT_ISSUED_IN_FUTURE: { status: 401, challenge: invalid, step: 'issued-at', description: 'iat is in the future.' },
  ERR_JWT_TOO_OLD: { status: 401, challenge: invalid, step: 'issued-at', description: 'The token is older than maxTokenAge.' },
  ERR_JWT_ISSUER_INVALID: { status: 401, challenge: invalid, step: 'issuer', description: 'iss is missing or not an allowed issuer.' },
  ERR_JWT_AUDIENCE_INVALID: { status: 401, challenge: invalid, step: 'audience', description: 'The audience is missing or not accepted.' },
  ERR_JWT_CLAIM_INVALID: { status: 401, challenge: invalid, step: 'claims', description: 'A claim has the wrong type or value.' },
  ERR_JWT_CLAIM_MISSING: { status: 401, challenge: invalid, step: 'claims', description: 'A required claim is absent.' },
  ERR_JWT_SCHEMA_INVALID: { status: 401, challenge: invalid, step: 'claims', description: 'claimsSchema rejected the claims.' },
  ERR_JWT_REVOKED: { status: 401, challenge: invalid, step: 'revocation', description: 'The token or its subject is revoked.' },
  ERR_JWT_JTI_MISSING: { status: 401, challenge: invalid, step: 'revocation', description: 'A revocation store needs a token id.' },
  ERR_JWE_NOT_SUPPORTED: { status: 401, challenge: invalid, step: 'decryption', description: 'A JWE, and no decryption is configured.' },
  ERR_JWE_REQUIRED: { status: 401, challenge: invalid, step: 'decryption', description: 'A plain JWS where a JWE is required.' },
  ERR_JWE_DECRYPTION_FAILED: { status: 401, challenge: invalid, step: 'decryption', description: 'No decryption key opens the JWE.' },
  ERR_JWE_INVALID: { status: 401, challenge: invalid, step: 'decryption', description: 'The JWE is refused before or after decryption.' },
  ERR_DPOP_PROOF_INVALID: {
    status: 401,
    challenge: 'invalid_dpop_proof',
    step: 'dpop-proof',
    description: 'The DPoP proof is missing or fails a check of RFC 9449.',
  },
  ERR_DPOP_NONCE_REQUIRED: {
    status: 401,
    challenge: 'use_dpop_nonce',
    step: 'dpop-proof',
    description: 'The DPoP proof lacks a current server nonce.',
  },
  ERR_DPOP_BINDING_INVALID: {
    status: 401,
    challenge: invalid,
    step: 'binding',
    description: 'A DPoP-bound token without a proof by its key.',
  },
  ERR_MTLS_BINDING_INVALID: {
    status: 401,
    challenge: invalid,
    step: 'binding',
    description: 'A certificate-bound token (cnf x5t#S256) without that client certificate.',
  },
  ERR_JWT_CNF_UNSUPPORTED: {
    status: 401,
    challenge: invalid,
    step: 'binding',
    description: "The token's cnf names a confirmation the guard cannot check, or is malformed.",
  },
  ERR_JWT_INSUFFICIENT_SCOPE: {
    status: 403,
    challenge: 'insufficient_scope',
    step: 'authorization',
    description: 'requireScopes not met.',
  },
  ERR_JWT_INSUFFICIENT_ROLE: { status: 403, challenge: 'insufficient_scope', step: 'authorization', description: 'requireRoles not met.' },
  ERR_JWT_CLAIM_CHECK_FAILED: {
    status: 403,
    challenge: 'insufficient_scope',
    step: 'authorization',
    description: 'requireClaims not met.',
  },
  ERR_CALLBACK_FAILED: {
    status: 500,
    challenge: undefined,
    step: 'claims',
    description: 'A callback of yours threw: a server fault (or the explicit status it threw).',
  },
  ERR_BODY_NOT_PARSED: {
    status: 500,
    challenge: undefined,
    step: 'request',
    description: 'tokenFrom body met a form post no body parser parsed: the app must add one.',
  },
  ERR_ROUTE_DENIED: {
    status: 403,
    challenge: 'insufficient_scope',
    step: 'authorization',
    description: 'Gateway mode: no route rule matches and the default is deny.',
  },
  ERR_JWKS_UNAVAILABLE: { status: 503, challenge: undefined, step: 'key', description: 'The key set could not be fetched.' },
  ERR_JWKS_TIMEOUT: {
    status: 503,
    challenge: undefined,
    step: 'key',
    description: 'Fetching the key set took longer than timeoutDuration.',
  },
  ERR_JWKS_INVALID: { status: 503, challenge: undefined, step: 'key', description: 'The key set response is not a JWKS.' },
  ERR_DISCOVERY_FAILED: { status: 503, challenge: undefined, step: 'key', description: 'No discovery document gave a usable jwks_uri.' },
  ERR_KEY_SOURCE_UNAVAILABLE: { status: 503, challenge: undefined, step: 'key', description: 'getKey threw or rejected.' },
  ERR_REVOCATION_UNAVAILABLE: {
    status: 503,
    challenge: undefined,
    step: 'revocation',
    description: 'The revocation check could not answer.',
  },
  ERR_REVOCATION_STORE_FULL: {
    status: 503,
    challenge: undefined,
    step: 'revocation',
    description: 'The in-memory revocation store is full: the revocation did not take.',
  },
  ERR_DPOP_REPLAY_UNAVAILABLE: {
    status: 503,
    challenge: undefined,
    step: 'dpop-proof',
    description: 'The DPoP replay store could not answer.',
  },
  ERR_DPOP_REPLAY_STORE_FULL: {
    status: 503,
    challenge: undefined,
    step: 'dpop-proof',
    description: 'The in-memory DPoP replay store is full: a new proof is refused.',
  },
} as const satisfies Record<string, ErrorInfo>)

export type GuardErrorCode = keyof typeof ERROR_TABLE
