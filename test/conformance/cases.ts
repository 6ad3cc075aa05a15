import { generateKeyPair } from 'jose'
import type { GuardErrorCode } from '../../src/index.js'
import type { TestIssuer } from '../../src/testing/index.js'
import type { AppName } from './apps.js'

/** What a failing request must produce; the body shape differs per framework, these values do not. */
export interface ExpectedError {
  code: GuardErrorCode
  message: string
}

export interface Case {
  name: string
  /** Which app serves the request. Default `'main'`. */
  app?: AppName
  path: string
  /** The token to send as `<scheme> <token>`; none when it resolves `undefined`. */
  token?: (issuer: TestIssuer) => Promise<string | undefined>
  /** Authorization scheme for `token`. Default `'Bearer'`. */
  scheme?: string
  headers?: Record<string, string>
  /** Send the Authorization header twice, over a raw socket: Node's clients fold duplicates. */
  twice?: boolean
  status: number
  /** The exact `WWW-Authenticate` value; `undefined` means the header must be absent. */
  challenge: string | undefined
  /** Exact JSON body of a success. */
  body?: unknown
  error?: ExpectedError
}

type Outcome = Pick<Case, 'status' | 'challenge' | 'body' | 'error'>

const REALM = 'Bearer realm="api"'

const ok = (body: unknown): Outcome => ({ status: 200, challenge: undefined, body })
const missing: Outcome = { status: 401, challenge: REALM, error: { code: 'ERR_JWT_MISSING', message: 'Authentication required' } }
const invalidToken = (code: GuardErrorCode, message: string): Outcome => ({
  status: 401,
  challenge: `${REALM}, error="invalid_token", error_description="${message}"`,
  error: { code, message },
})
const invalidRequest = (message: string): Outcome => ({
  status: 400,
  challenge: `${REALM}, error="invalid_request", error_description="${message}"`,
  error: { code: 'ERR_REQUEST_INVALID', message },
})
const forbidden = (code: GuardErrorCode, message: string, scope?: string): Outcome => ({
  status: 403,
  challenge: `${REALM}, error="insufficient_scope", error_description="${message}"${scope ? `, scope="${scope}"` : ''}`,
  error: { code, message },
})
const noScope = (scope: string) => forbidden('ERR_JWT_INSUFFICIENT_SCOPE', 'Insufficient scope', scope)

const SUB = 'user-123' // the test issuer's default `sub`
const now = () => Math.floor(Date.now() / 1000)
const signed =
  (claims: Record<string, unknown> = {}, options: Parameters<TestIssuer['sign']>[1] = {}) =>
  (issuer: TestIssuer) =>
    issuer.sign(claims, options)
const literal = (token: string) => async () => token

// A key the issuer never published, made once: signs tokens whose kid is one the issuer does publish.
let foreign: ReturnType<typeof generateKeyPair> | undefined
const foreignSigned = async (issuer: TestIssuer) => issuer.sign({}, { key: (await (foreign ??= generateKeyPair('RS256'))).privateKey })

export const CASES: Case[] = [
  { name: 'public route without a token', path: '/public', ...ok({ public: true }) },
  { name: 'public route ignores a garbage token', path: '/public', token: literal('garbage'), ...ok({ public: true }) },
  { name: 'missing token', path: '/protected', ...missing },
  { name: 'valid RS256', path: '/protected', token: signed({}, { alg: 'RS256' }), ...ok({ sub: SUB, scopes: [], roles: [] }) },
  { name: 'valid ES256', path: '/protected', token: signed({}, { alg: 'ES256' }), ...ok({ sub: SUB, scopes: [], roles: [] }) },
  { name: 'valid EdDSA', path: '/protected', token: signed({}, { alg: 'EdDSA' }), ...ok({ sub: SUB, scopes: [], roles: [] }) },
  {
    name: 'valid HS256 on the secret app',
    app: 'hmac',
    path: '/protected',
    token: signed({ scope: 'a b' }, { alg: 'HS256' }),
    ...ok({ sub: SUB, scopes: ['a', 'b'], roles: [] }),
  },
  {
    name: 'RS256 on the secret app',
    app: 'hmac',
    path: '/protected',
    token: signed(),
    ...invalidToken('ERR_JWT_ALG_NOT_ALLOWED', 'Algorithm not allowed'),
  },
  {
    name: 'valid token, keys by discovery',
    app: 'discovery',
    path: '/protected',
    token: signed(),
    ...ok({ sub: SUB, scopes: [], roles: [] }),
  },
  { name: 'expired', path: '/protected', token: signed({}, { expiresIn: -60 }), ...invalidToken('ERR_JWT_EXPIRED', 'Token expired') },
  {
    name: 'not yet valid (nbf +1h)',
    path: '/protected',
    token: signed({ nbf: now() + 3600 }),
    ...invalidToken('ERR_JWT_NOT_YET_VALID', 'Token not yet valid'),
  },
  {
    name: 'issued in the future (iat +1h)',
    path: '/protected',
    token: signed({ iat: now() + 3600 }),
    ...invalidToken('ERR_JWT_ISSUED_IN_FUTURE', 'Token issued in the future'),
  },
  {
    name: 'wrong audience',
    path: '/protected',
    token: signed({ aud: 'https://other.example.test' }),
    ...invalidToken('ERR_JWT_AUDIENCE_INVALID', 'Unexpected token audience'),
  },
  {
    name: 'wrong issuer',
    path: '/protected',
    token: signed({ iss: 'https://other-idp.example.test' }),
    ...invalidToken('ERR_JWT_ISSUER_INVALID', 'Unexpected token issuer'),
  },
  {
    name: 'unknown kid',
    path: '/protected',
    token: signed({}, { kid: 'no-such-kid' }),
    ...invalidToken('ERR_JWKS_NO_MATCHING_KEY', 'No matching key'),
  },
  {
    name: 'foreign key under a published kid',
    path: '/protected',
    token: foreignSigned,
    ...invalidToken('ERR_JWT_SIGNATURE_INVALID', 'Invalid signature'),
  },
  {
    name: 'token over 8 KiB',
    path: '/protected',
    token: literal('a'.repeat(9000)),
    ...invalidToken('ERR_JWT_TOO_LARGE', 'Token too large'),
  },
  {
    name: 'key source unreachable',
    app: 'unavailable',
    path: '/protected',
    token: signed(),
    status: 503,
    challenge: undefined,
    error: { code: 'ERR_JWKS_UNAVAILABLE', message: 'Key source unavailable' },
  },
  { name: 'garbage token', path: '/protected', token: literal('garbage'), ...invalidToken('ERR_JWT_MALFORMED', 'Malformed token') },
  {
    name: 'Bearer with nothing after it',
    path: '/protected',
    headers: { authorization: 'Bearer' },
    ...invalidRequest('Empty bearer token'),
  },
  {
    name: 'Bearer with two credentials',
    path: '/protected',
    headers: { authorization: 'Bearer a b' },
    ...invalidRequest('Malformed Authorization header'),
  },
  { name: 'lowercase bearer scheme', path: '/protected', token: signed(), scheme: 'bearer', ...ok({ sub: SUB, scopes: [], roles: [] }) },
  { name: 'Basic scheme is no bearer token', path: '/protected', headers: { authorization: 'Basic xyz' }, ...missing },
  {
    name: 'two Authorization headers',
    path: '/protected',
    token: signed(),
    twice: true,
    ...invalidRequest('Multiple Authorization headers'),
  },
  { name: 'scope missing', path: '/scoped', token: signed(), ...noScope('orders:read') },
  { name: 'scope present', path: '/scoped', token: signed({ scope: 'orders:read' }), ...ok({ sub: SUB }) },
  { name: 'scope as scp array', path: '/scoped', token: signed({ scp: ['orders:read'] }), ...ok({ sub: SUB }) },
  { name: 'scope differing in case', path: '/scoped', token: signed({ scope: 'Orders:Read' }), ...noScope('orders:read') },
  { name: 'all scopes: one of two', path: '/scoped-all', token: signed({ scope: 'orders:read' }), ...noScope('orders:read orders:write') },
  { name: 'all scopes: both', path: '/scoped-all', token: signed({ scope: 'orders:write orders:read' }), ...ok({ sub: SUB }) },
  { name: 'any scope: one of two', path: '/scoped-any', token: signed({ scope: 'orders:write' }), ...ok({ sub: SUB }) },
  { name: 'any scope: none', path: '/scoped-any', token: signed({ scope: 'other' }), ...noScope('orders:read orders:write') },
  { name: 'role present', path: '/admin', token: signed({ roles: ['admin'] }), ...ok({ sub: SUB }) },
  {
    name: 'role absent',
    path: '/admin',
    token: signed({ roles: ['user'] }),
    ...forbidden('ERR_JWT_INSUFFICIENT_ROLE', 'Insufficient role'),
  },
  { name: 'claims object passes', path: '/tenant', token: signed({ tenant: 'acme' }), ...ok({ sub: SUB }) },
  {
    name: 'claims object fails',
    path: '/tenant',
    token: signed({ tenant: 'other' }),
    ...forbidden('ERR_JWT_CLAIM_CHECK_FAILED', 'Claim check failed'),
  },
  { name: 'claims predicate passes', path: '/tenant-fn', token: signed({ tenant: 'acme' }), ...ok({ sub: SUB }) },
  {
    name: 'claims predicate fails',
    path: '/tenant-fn',
    token: signed({ tenant: 'other' }),
    ...forbidden('ERR_JWT_CLAIM_CHECK_FAILED', 'Claim check failed'),
  },
  {
    name: 'claims check with a description: its 403 says it',
    path: '/tenant-described',
    token: signed({ tenant: 'other' }),
    ...forbidden('ERR_JWT_CLAIM_CHECK_FAILED', 'Acme staff only'),
  },
  { name: 'optional: anonymous', app: 'optional', path: '/optional', ...ok({ anonymous: true }) },
  {
    name: 'optional: bad token is still refused',
    app: 'optional',
    path: '/optional',
    token: signed({}, { expiresIn: -60 }),
    ...invalidToken('ERR_JWT_EXPIRED', 'Token expired'),
  },
  { name: 'optional: valid token', app: 'optional', path: '/optional', token: signed(), ...ok({ anonymous: false }) },
  // A scope check on an anonymous request asks for a token (401), it does not forbid (403).
  { name: 'optional: anonymous on a scoped route', app: 'optional', path: '/optional-scoped', ...missing },
  {
    name: 'optional: scoped route with the scope',
    app: 'optional',
    path: '/optional-scoped',
    token: signed({ scope: 'orders:read' }),
    ...ok({ sub: SUB }),
  },
]
