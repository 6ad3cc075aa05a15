// Issue 14, item 8: requests that fail on one token share its verification (single-flight), and so the error it
// threw; each response must still get its own error and headers. A held `getKey` keeps the verification in flight
// until both requests have joined it, so the sharing is certain, not a race.
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import express from 'express'
import type { JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jwtGuard } from '../../adapters/express.js'
import { createGuard, type GuardError, type GuardOptions, type GuardRequest } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { clientKey, now, signProof, type ClientKey } from '../dpop/fixtures.js'
import { rejection } from '../helpers/shared.js'

let issuer: TestIssuer
let client: ClientKey
let publicJwk: JWK

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
  client = await clientKey('ES256')
  publicJwk = issuer.jwks().keys[0]!
})
afterAll(() => issuer?.close())

/** A `getKey` that answers only when `release()` is called, and counts its calls (one per verification). */
function heldKey() {
  let release!: () => void
  let asked!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  const askedOnce = new Promise<void>((resolve) => (asked = resolve))
  const held = {
    calls: 0,
    asked: askedOnce,
    release,
    getKey: async () => {
      held.calls++
      asked()
      await released
      return publicJwk
    },
  }
  return held
}

const options = (origin: string, getKey: GuardOptions['getKey']): GuardOptions => ({
  ...issuer.guardOptions(),
  getKey,
  algorithms: ['ES256'],
  dpop: { algorithms: ['ES256'], origin },
})

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('each refused request gets its own error', () => {
  it('guard.authenticate: a DPoP and a Bearer request refused on one verification get their own scheme', async () => {
    const origin = 'https://api.example.test'
    const held = heldKey()
    const guard = createGuard(options(origin, held.getKey))
    const token = await issuer.sign({ exp: now() - 3600 }, { alg: 'ES256' })
    const base = { method: 'GET', url: '/orders', protocol: 'https' }
    const dpopRequest: GuardRequest = {
      ...base,
      headers: {
        host: 'api.example.test',
        authorization: `DPoP ${token}`,
        dpop: await signProof(client, { htu: `${origin}/orders`, token }),
      },
    }
    const bearerRequest: GuardRequest = { ...base, headers: { host: 'api.example.test', authorization: `Bearer ${token}` } }

    const viaDpop = rejection(guard.authenticate(dpopRequest))
    await held.asked
    const viaBearer = rejection(guard.authenticate(bearerRequest))
    await turn()
    held.release()
    const [dpopError, bearerError] = await Promise.all([viaDpop, viaBearer])

    expect(held.calls).toBe(1) // one verification, shared
    expect(dpopError).not.toBe(bearerError)
    expect([dpopError.code, bearerError.code]).toEqual(['ERR_JWT_EXPIRED', 'ERR_JWT_EXPIRED'])
    expect(dpopError.headers['WWW-Authenticate']).toBe(
      'DPoP realm="api", error="invalid_token", error_description="Token expired", algs="ES256"',
    )
    expect(bearerError.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="Token expired", DPoP algs="ES256"',
    )
    // The headers of an answer cannot be written on afterwards by anyone holding it.
    expect(Object.isFrozen(bearerError.headers)).toBe(true)
  })

  /** Two `guard.verify` calls on one expired token, the second while the first waits for its key: one verification. */
  async function concurrentRejections(): Promise<{ a: GuardError; b: GuardError; keyCalls: number }> {
    const held = heldKey()
    const guard = createGuard(options('https://api.example.test', held.getKey))
    const token = await issuer.sign({ exp: now() - 3600 }, { alg: 'ES256' })
    const first = rejection(guard.verify(token))
    await held.asked
    const second = rejection(guard.verify(token))
    await turn()
    held.release()
    const [a, b] = await Promise.all([first, second])
    return { a, b, keyCalls: held.calls }
  }

  it('guard.verify: concurrent calls with one bad token reject with distinct errors', async () => {
    const { a, b, keyCalls } = await concurrentRejections()
    expect(keyCalls).toBe(1)
    expect(a).not.toBe(b)
    expect(a.cause).toBe(b.cause)
    expect(a.headers).toEqual(b.headers)
  })

  it('what concurrent rejections share is frozen; each answer stays writable for its framework', async () => {
    const { a, b } = await concurrentRejections()
    expect(a.context).toBe(b.context)
    expect(Object.isFrozen(a.context)).toBe(true)
    expect(() => {
      ;(a.context as { reason?: string }).reason = 'changed'
    }).toThrow(TypeError)
    expect(b.context.reason).toBe('expired')
    // Koa writes `err.status` back and marks `headerSent` on the error it renders.
    const writable = a as unknown as { status: number; headerSent?: boolean }
    writable.status = 401
    writable.headerSent = true
    expect(b).not.toHaveProperty('headerSent')
  })

  describe('over HTTP (Express)', () => {
    let server: Server
    let url: string
    let held: ReturnType<typeof heldKey>
    let bearerArrived: () => void
    let bearerSeen: Promise<void>

    beforeAll(async () => {
      held = heldKey()
      bearerSeen = new Promise<void>((resolve) => (bearerArrived = resolve))
      const app = express()
      // Tells the test when the Bearer request has reached the guard (which joins the verification in microtasks).
      app.use((req, _res, next) => {
        if (req.headers.authorization?.startsWith('Bearer ')) bearerArrived()
        next()
      })
      const port = await new Promise<number>((resolve) => {
        server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
      })
      url = `http://127.0.0.1:${port}/orders`
      app.use(jwtGuard(options(`http://127.0.0.1:${port}`, held.getKey)))
      app.get('/orders', (_req, res) => void res.json({ ok: true }))
    })
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

    it('a DPoP and a Bearer request with one expired token each get their own scheme challenge', async () => {
      const token = await issuer.sign({ exp: now() - 3600 }, { alg: 'ES256' })
      const proof = await signProof(client, { htu: url, token })
      const viaDpop = fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } })
      await held.asked
      const viaBearer = fetch(url, { headers: { authorization: `Bearer ${token}` } })
      await bearerSeen
      await turn()
      held.release()
      const [dpop, bearer] = await Promise.all([viaDpop, viaBearer])
      expect(held.calls).toBe(1)
      expect([dpop.status, bearer.status]).toEqual([401, 401])
      expect(dpop.headers.get('www-authenticate')).toBe(
        'DPoP realm="api", error="invalid_token", error_description="Token expired", algs="ES256"',
      )
      expect(bearer.headers.get('www-authenticate')).toBe(
        'Bearer realm="api", error="invalid_token", error_description="Token expired", DPoP algs="ES256"',
      )
    }, 30_000)
  })
})
