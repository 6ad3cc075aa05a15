// Issue 14, item 10: every WWW-Authenticate the guard writes parses with a strict RFC 7235 parser and keeps
// RFC 6750 §3's characters, whatever the token's claims say; configured values a challenge cannot carry are
// refused when the guard or the check is built; and a character outside Latin-1 never reaches setHeader.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jwtGuard } from '../../adapters/express.js'
import {
  createGuard,
  ERROR_CODES,
  GuardError,
  requireClaims,
  requireRoles,
  requireScopes,
  type GuardErrorCode,
  type GuardOptions,
  type StandardSchemaV1,
} from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { checkChallenge, parseChallenges } from './rfc7235.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
})
afterAll(() => issuer?.close())

// What a token may hold to break a header: quotes, backslashes, CR/LF, ESC and NUL, C1, bidi controls, non-Latin-1.
const HOSTILE = [
  '"',
  '\\',
  '\r',
  '\n',
  '\u0000',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u202e',
  '\u2066',
  '\u200f',
  '\u061c',
  '読',
  'é',
  '😀',
  '\ud800',
]
const hostileString = fc.oneof(
  fc.string({ unit: fc.constantFrom(...HOSTILE, 'a', 'b', ' ', '=', ',', ':') }),
  fc.string({ unit: 'binary', maxLength: 12 }),
)
const claimValue = fc.oneof(
  hostileString,
  fc.integer(),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString),
)
const safeName = fc.string({ unit: fc.constantFrom(..."abcXYZ019 !#$%&'()*+,-./:;<=>?@[]^_`{|}~"), minLength: 1, maxLength: 10 })

/** A Standard Schema that refuses a token carrying `key`, with that key as the issue's path. */
const refusing = (key: string, message: string): StandardSchemaV1<unknown, Record<string, unknown>> => ({
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      Object.hasOwn(value as object, key)
        ? { issues: [{ message, path: [key, { key: 0 }] }] }
        : { value: value as Record<string, unknown> },
  },
})

describe('configured values a challenge cannot carry are refused at construction', () => {
  const base = () => ({ ...issuer.guardOptions(), jwks: issuer.jwks() })
  it.each(['a"b', 'a\\b', 'a\r\nb', '読む', 'ré\u202ealm', '\u0007'])('realm %j', (realm) => {
    expect(() => createGuard({ ...base(), realm })).toThrow(TypeError)
    expect(() => createGuard({ ...base(), realm })).toThrow(/option "realm"/)
  })
  it.each(['a"b', 'a\\b', 'tenant\nid', '名前', '\u202esub'])('requiredClaims name %j', (name) => {
    expect(() => createGuard({ ...base(), requiredClaims: ['sub', name] })).toThrow(/option "requiredClaims" has a claim name/)
  })
  it('expectedClaims names', () => {
    expect(() => createGuard({ ...base(), expectedClaims: { 'token"use': 'access' } })).toThrow(/option "expectedClaims" has a claim name/)
  })
  it.each(['読む', 'orders"read', 'a\\b', 'é', 'tab\tscope', '\u007f'])('requireScopes name %j (RFC 6749 scope-token)', (scope) => {
    expect(() => requireScopes([scope])).toThrow(TypeError)
    expect(() => requireScopes([scope])).toThrow(JSON.stringify(scope))
  })
  it('keeps what was valid: realms with spaces and punctuation, URL claim names, roles with spaces or any script', () => {
    expect(
      createGuard({ ...base(), realm: "orders API (eu-west-1) ~ v2's", requiredClaims: ['https://example.com/tenant'] }).settings.realm,
    ).toBe("orders API (eu-west-1) ~ v2's")
    expect(() => requireScopes('orders:read https://graph.example/.default')).not.toThrow()
    expect(() => requireRoles(['Order Admins', 'Administratörer', '管理者'])).not.toThrow()
  })
})

describe('every challenge parses strictly', () => {
  it('any message and scope list a GuardError may carry, on every code, Bearer and DPoP', () => {
    const guards = [
      createGuard({ ...issuer.guardOptions(), jwks: issuer.jwks(), realm: 'orders' }),
      createGuard({ ...issuer.guardOptions(), jwks: issuer.jwks(), dpop: { algorithms: ['ES256'] } }),
    ]
    const codes = Object.keys(ERROR_CODES) as GuardErrorCode[]
    fc.assert(
      fc.property(fc.constantFrom(...codes), hostileString, fc.array(hostileString, { maxLength: 4 }), (code, message, scope) => {
        for (const guard of guards) {
          const err = guard.toHttpError(new GuardError(code, message, { scope }))
          const header = err.headers['WWW-Authenticate']
          if (err.status >= 500) expect(header).toBeUndefined()
          else checkChallenge(header!)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('random claim names and values, broken registered claims, schemas and route checks: every refusal parses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(hostileString, claimValue, { maxKeys: 4 }),
        fc.constantFrom('none', 'exp-missing', 'exp-text', 'expired', 'iss', 'aud', 'nbf', 'required', 'schema'),
        hostileString,
        safeName,
        fc.constantFrom('scopes', 'roles', 'claims'),
        fc.boolean(),
        async (extra, broken, text, name, route, dpop) => {
          const claims: Record<string, unknown> = { ...extra }
          const now = Math.floor(Date.now() / 1000)
          if (broken === 'exp-missing') claims.exp = undefined
          if (broken === 'exp-text') claims.exp = text
          if (broken === 'expired') claims.exp = now - 3600
          if (broken === 'iss') claims.iss = text
          if (broken === 'aud') claims.aud = text
          if (broken === 'nbf') claims.nbf = now + 3600
          // Never the scope or role the route check asks for: every run must end in a refusal.
          claims.scope = text
            .split(' ')
            .filter((s) => !s.startsWith('x:'))
            .join(' ')
          claims.roles = []
          const options: GuardOptions = { ...issuer.guardOptions(), jwks: issuer.jwks(), realm: name }
          if (broken === 'required') options.requiredClaims = [name]
          if (broken === 'schema') options.claimsSchema = refusing(Object.keys(extra)[0] ?? 'sub', text)
          if (dpop) options.dpop = { algorithms: ['ES256'] }
          const guard = createGuard(options)
          // Claims the test sets win over the issuer's defaults; claims named like registered ones are fine too.
          const token = await issuer.sign(claims, { alg: 'ES256' })
          let header: string | undefined
          try {
            const auth = await guard.authenticate({
              headers: { authorization: `Bearer ${token}` },
              method: 'GET',
              url: '/',
            })
            const check =
              route === 'scopes'
                ? requireScopes(`x:${name.replace(/[ "\\]/g, '')}`)
                : route === 'roles'
                  ? requireRoles([text || 'r'])
                  : requireClaims(() => false)
            guard.check(check, auth)
          } catch (err) {
            expect(err).toBeInstanceOf(GuardError)
            header = (err as GuardError).headers['WWW-Authenticate']
          }
          expect(header).toBeDefined()
          checkChallenge(header!)
        },
      ),
      { numRuns: 150 },
    )
  }, 120_000)

  it('the parser is strict: it refuses what RFC 6750 does not allow', () => {
    expect(() => checkChallenge('Bearer realm="api", error_description="Missing \\"sub\\" claim"')).toThrow(/quoted-pair/)
    expect(() => checkChallenge('Bearer realm="a\u00e9"')).toThrow(/outside RFC 6750/)
    expect(() => checkChallenge('Bearer realm="api" error="x"')).toThrow()
    expect(() => checkChallenge('Bearer realm="api", scope="a  b"')).toThrow(/scope/)
    expect(() => checkChallenge('Bearer realm="api", realm="x"')).toThrow(/repeated/)
    expect(parseChallenges('Bearer realm="api", error="invalid_token", DPoP algs="ES256 PS256"')).toEqual([
      { scheme: 'Bearer', params: { realm: 'api', error: 'invalid_token' } },
      { scheme: 'DPoP', params: { algs: 'ES256 PS256' } },
    ])
  })
})

describe('a character outside Latin-1 never reaches setHeader (real Express)', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    const guard = createGuard({ ...issuer.guardOptions(), jwks: issuer.jwks() })
    const app = express()
    app.use(jwtGuard(guard))
    // A check of the user's own that names scopes no challenge can carry: the guard still renders its challenge.
    app.get('/reports', (_req, _res, next) =>
      next(guard.toHttpError(new GuardError('ERR_JWT_INSUFFICIENT_SCOPE', 'Needs 読む', { scope: ['読む', 'reports:read'] }))),
    )
    const port = await new Promise<number>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
    })
    url = `http://127.0.0.1:${port}/reports`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('answers 403 with a parseable challenge (main: ERR_INVALID_CHAR in the final handler, the request hung)', async () => {
    const token = await issuer.sign({}, { alg: 'ES256' })
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20_000) })
    expect(res.status).toBe(403)
    const header = res.headers.get('www-authenticate')!
    expect(header).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="Needs %E8%AA%AD%E3%82%80", scope="reports:read"',
    )
    checkChallenge(header)
  }, 30_000)

  it('a scope name outside RFC 6749 is refused when the route check is built, before any request', () => {
    expect(() => requireScopes('読む')).toThrow(/requireScopes\(\) scope "読む" is not an RFC 6749 scope-token/)
  })
})
