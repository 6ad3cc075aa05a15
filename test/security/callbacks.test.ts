import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import type Express from 'express'
import createHttpError from 'http-errors'
import { SignJWT } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import * as expressAdapter from '../../adapters/express.js'
import { createGuard, GuardError, requireClaims, type AuthInfo, type GuardOptions, type GuardRequest } from '../../src/index.js'
import { clientKey, signProof } from '../dpop/fixtures.js'

// issue 14 item 1: every user callback that fails is the server's fault, with its own status and code;
// its message never reaches the client; the process keeps serving; an explicit HTTP status is honoured.

// Counted from the first line: no failure below may leave a rejection unhandled.
let unhandled = 0
process.on('unhandledRejection', () => unhandled++)
afterAll(() => expect(unhandled).toBe(0))

const require = createRequire(import.meta.url)
const express5 = require('express5') as typeof Express

const SECRET_DETAIL = 'callback-secret-detail'
const secret = randomBytes(32)
const base: GuardOptions = { issuer: 'https://issuer.test', audience: 'https://api.test', secret, cache: false }
const ORIGIN = 'https://api.test'

const token = (claims: Record<string, unknown> = {}) =>
  new SignJWT({ iss: 'https://issuer.test', aud: 'https://api.test', sub: 'alice', jti: 'j-1', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .sign(secret)

type Throw = () => never
const fail: Throw = () => {
  throw new Error(SECRET_DETAIL)
}
const reject = async (): Promise<never> => fail()

const schema = (validate: (value: unknown) => unknown): GuardOptions['claimsSchema'] =>
  ({ '~standard': { version: 1, vendor: 'broken', validate } }) as unknown as GuardOptions['claimsSchema']

interface Case {
  name: string
  options: Partial<GuardOptions>
  /** A requireClaims predicate for the route (a route check rather than an option). */
  predicate?: (payload: Record<string, unknown>) => unknown
  /** `verify` runs too unless the callback needs a request. */
  requestOnly?: boolean
  status: number
  code: string
  callback?: string
}

const CASES: Case[] = [
  {
    name: 'tokenFrom throws',
    options: { tokenFrom: fail },
    requestOnly: true,
    status: 500,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'tokenFrom',
  },
  {
    name: 'tokenFrom returns a rejected promise',
    options: { tokenFrom: reject as never },
    requestOnly: true,
    status: 500,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'tokenFrom',
  },
  {
    name: 'getKey throws',
    options: { secret: undefined, algorithms: ['HS256'], getKey: fail },
    status: 503,
    code: 'ERR_KEY_SOURCE_UNAVAILABLE',
    callback: 'getKey',
  },
  {
    name: 'getKey rejects',
    options: { secret: undefined, algorithms: ['HS256'], getKey: reject },
    status: 503,
    code: 'ERR_KEY_SOURCE_UNAVAILABLE',
    callback: 'getKey',
  },
  { name: 'isRevoked throws', options: { isRevoked: fail }, status: 503, code: 'ERR_REVOCATION_UNAVAILABLE', callback: 'isRevoked' },
  { name: 'isRevoked rejects', options: { isRevoked: reject }, status: 503, code: 'ERR_REVOCATION_UNAVAILABLE', callback: 'isRevoked' },
  {
    name: 'a custom store throws (not async)',
    options: { revocation: { isRevoked: fail } },
    status: 503,
    code: 'ERR_REVOCATION_UNAVAILABLE',
    callback: 'revocation',
  },
  {
    name: 'a custom store rejects',
    options: { revocation: { isRevoked: reject } },
    status: 503,
    code: 'ERR_REVOCATION_UNAVAILABLE',
    callback: 'revocation',
  },
  {
    name: 'claimsSchema throws',
    options: { claimsSchema: schema(fail) },
    status: 500,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'claimsSchema',
  },
  {
    name: 'claimsSchema rejects',
    options: { claimsSchema: schema(reject) },
    status: 500,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'claimsSchema',
  },
  {
    name: 'claimsSchema answers null',
    options: { claimsSchema: schema(() => null) },
    status: 500,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'claimsSchema',
  },
  { name: 'a scopeClaim function throws', options: { scopeClaim: fail }, status: 500, code: 'ERR_CALLBACK_FAILED', callback: 'scopeClaim' },
  {
    name: 'a scopeClaim function rejects (async)',
    options: { scopeClaim: reject },
    status: 500,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'scopeClaim',
  },
  { name: 'a rolesClaim function throws', options: { rolesClaim: fail }, status: 500, code: 'ERR_CALLBACK_FAILED', callback: 'rolesClaim' },
  {
    name: 'a requireClaims predicate throws',
    options: {},
    predicate: fail,
    status: 500,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'requireClaims',
  },
  {
    name: 'a requireClaims predicate rejects (async)',
    options: {},
    predicate: reject,
    status: 500,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'requireClaims',
  },
  // An error with an explicit HTTP status chooses the answer, its message shown only when it may be.
  {
    name: 'isRevoked throws http-errors 429',
    options: { isRevoked: () => fail429() },
    status: 429,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'isRevoked',
  },
  {
    name: 'tokenFrom throws http-errors 400',
    options: { tokenFrom: () => fail400() },
    requestOnly: true,
    status: 400,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'tokenFrom',
  },
  {
    name: 'getKey throws http-errors 502',
    options: { secret: undefined, algorithms: ['HS256'], getKey: () => fail502() },
    status: 502,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'getKey',
  },
  {
    name: 'a predicate throws http-errors 403',
    options: {},
    predicate: () => fail403(),
    status: 403,
    code: 'ERR_CALLBACK_FAILED',
    callback: 'requireClaims',
  },
]

function fail429(): never {
  throw createHttpError(429, 'Slow down')
}
function fail400(): never {
  throw createHttpError(400, 'Token in the wrong place')
}
function fail502(): never {
  throw createHttpError(502, SECRET_DETAIL)
}
function fail403(): never {
  throw createHttpError(403, 'Not your tenant')
}

const EXPOSED: Record<number, string> = { 429: 'Slow down', 400: 'Token in the wrong place', 403: 'Not your tenant' }

function expectRefusal(err: unknown, c: Case): void {
  expect(err).toBeInstanceOf(GuardError)
  const e = err as GuardError
  expect({ status: e.status, code: e.code }).toEqual({ status: c.status, code: c.code })
  if (c.callback) expect(e.context.callback).toBe(c.callback)
  expect(e.message).not.toContain(SECRET_DETAIL)
  expect(e.stack).not.toContain(SECRET_DETAIL)
  if (c.status >= 500) expect(e.headers['WWW-Authenticate']).toBeUndefined()
  if (c.status === 401) throw new Error('a callback failure must never be a 401')
  if (EXPOSED[c.status]) expect(e.message).toBe(EXPOSED[c.status])
  // The callback's own error is kept for logs.
  expect(e.cause).toBeDefined()
}

/** The route check outside any framework, as adapters run it. */
function authorize(guard: ReturnType<typeof createGuard>, c: Case, auth: AuthInfo | undefined): void {
  if (c.predicate) guard.check(requireClaims(c.predicate as (p: Record<string, unknown>) => boolean), auth)
}

const outcome = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (err: unknown) => err,
  )

describe('a failing callback, through guard.authenticate and guard.verify', () => {
  it.each(CASES)('$name: $status $code', async (c) => {
    const guard = createGuard({ ...base, ...c.options } as GuardOptions)
    const jwt = await token()
    const request: GuardRequest = { headers: { authorization: `Bearer ${jwt}` }, method: 'GET', url: '/orders' }
    expectRefusal(await outcome(guard.authenticate(request).then((auth) => authorize(guard, c, auth))), c)
    if (!c.requestOnly) expectRefusal(await outcome(guard.verify(jwt).then((auth) => authorize(guard, c, auth))), c)
  })

  it('a DPoP replayStore whose remember() throws: 503 ERR_DPOP_REPLAY_UNAVAILABLE', async () => {
    const key = await clientKey()
    const guard = createGuard({ ...base, dpop: { origin: ORIGIN, replayStore: { remember: fail } } })
    const jwt = await token({ cnf: { jkt: key.jkt } })
    const proof = await signProof(key, { htu: `${ORIGIN}/orders`, token: jwt })
    const request: GuardRequest = {
      headers: { authorization: `DPoP ${jwt}`, dpop: proof, host: 'api.test' },
      method: 'GET',
      url: '/orders',
    }
    expectRefusal(await outcome(guard.authenticate(request)), {
      name: 'replay',
      options: {},
      status: 503,
      code: 'ERR_DPOP_REPLAY_UNAVAILABLE',
      callback: 'dpop.replayStore',
    })
  })
})

describe('a failing callback, through a real Express 5 server', () => {
  let server: Server | undefined
  afterAll(() => server?.close())

  it.each(CASES)('$name: $status, no callback message in the body, and it keeps serving', async (c) => {
    const app = express5()
    app.set('env', 'test') // not production: Express renders err.stack in the body, the worst case here
    app.use(expressAdapter.jwtGuard({ ...base, ...c.options } as GuardOptions))
    const route = (_req: Express.Request, res: Express.Response): void => void res.json({ ok: true })
    if (c.predicate) app.get('/orders', expressAdapter.requireClaims(c.predicate as () => boolean), route)
    else app.get('/orders', route)
    server = createServer(app)
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`
    try {
      const headers = { authorization: `Bearer ${await token()}` }
      // Twice: a failure leaves the server as able to answer as before.
      for (let i = 0; i < 2; i++) {
        const reply = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) })
        const body = await reply.text()
        expect(reply.status).toBe(c.status)
        expect(body).not.toContain(SECRET_DETAIL)
        if (c.status >= 500) expect(reply.headers.get('www-authenticate')).toBe(null)
      }
    } finally {
      await new Promise<void>((resolve) => server!.close(() => resolve()))
      server = undefined
    }
  })
})

describe('hostile things a callback may throw', () => {
  const hostile: [string, () => unknown][] = [
    ['null', () => null],
    ['a string', () => SECRET_DETAIL],
    [
      'an object whose status getter throws',
      () => ({
        get status(): number {
          throw new Error(SECRET_DETAIL)
        },
      }),
    ],
    ['a proxy that throws on every read', () => new Proxy({}, { get: fail })],
    ['a status out of range', () => Object.assign(new Error(SECRET_DETAIL), { status: 302 })],
    ['an exposable message outside RFC 6750', () => createHttpError(400, `bad "quote" ${SECRET_DETAIL}\u00e9`)],
  ]
  it.each(hostile)('%s: a fixed answer, no crash', async (_name, thrown) => {
    const guard = createGuard({
      ...base,
      tokenFrom: () => {
        throw thrown()
      },
    })
    const err = await outcome(guard.authenticate({ headers: {} }))
    expect(err).toBeInstanceOf(GuardError)
    const e = err as GuardError
    expect(e.status === 500 || e.status === 400).toBe(true)
    expect(e.message).not.toContain(SECRET_DETAIL)
    expect(e.code).toBe('ERR_CALLBACK_FAILED')
  })
})

describe('onEvent failures are reported once per guard', () => {
  it('a sync throw and a rejection change no answer; each guard warns once', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error): void =>
      void (w.name === 'Warning' && (w as { code?: string }).code === 'JWTGUARD_ON_EVENT_FAILED' && warnings.push(w))
    process.on('warning', onWarning)
    try {
      const throwing = createGuard({ ...base, onEvent: fail })
      const rejecting = createGuard({ ...base, onEvent: reject })
      const jwt = await token()
      for (let i = 0; i < 5; i++) {
        for (const guard of [throwing, rejecting]) {
          await expect(guard.verify(jwt)).resolves.toMatchObject({ payload: { sub: 'alice' } })
          expect(await outcome(guard.authenticate({ headers: {} }))).toMatchObject({ status: 401, code: 'ERR_JWT_MISSING' })
          expect(await outcome(guard.verify('not.a.token'))).toMatchObject({ status: 401 })
        }
      }
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(warnings).toHaveLength(2)
      for (const w of warnings) expect(w.message).not.toContain('\n')
    } finally {
      process.off('warning', onWarning)
    }
  })
})
