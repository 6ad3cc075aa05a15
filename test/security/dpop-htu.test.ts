import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuthInfo, GuardErrorCode, GuardOptions } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type AppSpec, type Running } from '../conformance/apps.js'
import { clientKey, signProof, type ClientKey } from '../dpop/fixtures.js'
import { expectErrorBody } from '../dpop/http.js'
import { getRaw, type RawOptions, type Reply } from '../helpers/shared.js'

// Issue 14, item 6: the URL a DPoP proof's `htu` is compared with is built from what the sender cannot choose.
// Every app trusts X-Forwarded-* (the framework's own proxy setting), as an app behind a proxy would.

type AppName = 'local' | 'configured'

const EXTERNAL = ['https://api.example.com', 'https://api.example.org']
const reply = (auth: AuthInfo | undefined) => ({ sub: auth?.payload.sub })

function specs(issuer: TestIssuer): Record<AppName, AppSpec> {
  const base = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri }
  const app = (dpop: GuardOptions['dpop']): AppSpec => ({
    guard: { ...base, dpop },
    routes: [
      { path: '/orders', reply },
      { path: '/intendedPath', reply },
    ],
    trustProxy: true,
  })
  return {
    // Local development: no dpop.origin, so htu must name the address the server listens on.
    local: app({ algorithms: ['ES256'] }),
    configured: app({ algorithms: ['ES256'], origin: EXTERNAL }),
  }
}

let issuer: TestIssuer
let key: ClientKey

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
  key = await clientKey('ES256')
})

afterAll(() => issuer?.close())

const bound = () => issuer.sign({ sub: 'alice', cnf: { jkt: key.jkt } }, { alg: 'ES256' })

const badRequest = (message: string) => ({ status: 400, code: 'ERR_REQUEST_INVALID' as GuardErrorCode, message, error: 'invalid_request' })
const badHtu = (message: string) => ({
  status: 401,
  code: 'ERR_DPOP_PROOF_INVALID' as GuardErrorCode,
  message,
  error: 'invalid_dpop_proof',
})
const NOT_LISTENING = badHtu('DPoP proof htu is not the listening address; set dpop.origin')
const MISMATCH = badHtu('DPoP proof htu mismatch')
type Expected = ReturnType<typeof badRequest>

describe.each(FRAMEWORKS.map((f) => [f.name, f] as const))('%s', (_name, framework) => {
  const apps: Partial<Record<AppName, Running>> = {}
  const base = (name: AppName) => apps[name]!.url
  const hostOf = (name: AppName) => new URL(base(name)).host
  const port = (name: AppName) => new URL(base(name)).port

  beforeAll(async () => {
    for (const [name, spec] of Object.entries(specs(issuer))) apps[name as AppName] = await framework.start(spec)
  })

  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app.close()))
  })

  /** GET /orders on `app` with a fresh bound token and a proof for `htu`, sent as `raw` says. */
  async function send(app: AppName, htu: string, headers: string[] = [], raw: RawOptions = {}): Promise<Reply> {
    const token = await bound()
    const proof = await signProof(key, { htu, token })
    return getRaw(`${base(app)}/orders`, [`Authorization: DPoP ${token}`, `DPoP: ${proof}`, ...headers], raw)
  }

  function expectRefused(got: Reply, expected: Expected): void {
    expect({ status: got.status, challenge: got.headers['www-authenticate'] }).toEqual({
      status: expected.status,
      challenge: expect.stringContaining(`error="${expected.error}", error_description="${expected.message}"`),
    })
    expectErrorBody(framework.family, got, expected.code, expected.message)
  }

  it.each(['127.0.0.1', 'localhost', '[::1]'])('no dpop.origin: a proof for the loopback listener as %s passes', async (host) => {
    const got = await send('local', `http://${host}:${port('local')}/orders`)
    expect({ status: got.status, body: got.body }).toEqual({ status: 200, body: JSON.stringify({ sub: 'alice' }) })
  })

  it.each(EXTERNAL)('dpop.origin: a proof for %s passes', async (origin) => {
    const got = await send('configured', `${origin}/orders`)
    expect({ status: got.status, body: got.body }).toEqual({ status: 200, body: JSON.stringify({ sub: 'alice' }) })
  })

  it('dpop.origin: a proof for the listening address is refused', async () => {
    expectRefused(await send('configured', `${base('configured')}/orders`), MISMATCH)
  })

  it('the Host probe: Host "127.0.0.1:PORT/intendedPath?" does not make a proof for /intendedPath pass on /orders', async () => {
    const got = await send('local', `${base('local')}/intendedPath`, [], { hostLines: [`Host: ${hostOf('local')}/intendedPath?`] })
    expectRefused(got, badRequest('Malformed Host header'))
  })

  it.each<[string, (host: string) => string[], string]>([
    ['with a path', (h) => [`Host: ${h}/orders`], 'Malformed Host header'],
    ['with a query', (h) => [`Host: ${h}?x=1`], 'Malformed Host header'],
    ['with a fragment', (h) => [`Host: ${h}#x`], 'Malformed Host header'],
    ['with userinfo', (h) => [`Host: evil@${h}`], 'Malformed Host header'],
    ['with inner whitespace', (h) => [`Host: ${h.replace(':', ' :')}`], 'Malformed Host header'],
    ['with a port that is not digits', (h) => [`Host: ${h}x`], 'Malformed Host header'],
    ['with an empty host', (h) => [`Host: ${h.slice(h.indexOf(':'))}`], 'Malformed Host header'],
    ['sent twice', (h) => [`Host: ${h}`, `Host: ${h}`], 'Multiple Host headers'],
  ])('a Host %s is a 400, before any comparison', async (_n, hostLines, message) => {
    const got = await send('local', `${base('local')}/orders`, [], { hostLines: hostLines(hostOf('local')) })
    expectRefused(got, badRequest(message))
  })

  it.each<[string, AppName, (app: string) => string]>([
    ['naming this server', 'local', (app) => `${app}/orders`],
    ['naming another host', 'configured', () => `${EXTERNAL[0]}/orders`],
  ])('an absolute-form request-target %s is a 400', async (_n, app, target) => {
    const got = await send(app, target(base(app)), [], { target: target(base(app)) })
    expectRefused(got, badRequest('Request target must be a path'))
  })

  it('no dpop.origin: a proof for another origin is refused even with a Host that names it', async () => {
    const got = await send('local', 'http://api.example.com/orders', [], { hostLines: ['Host: api.example.com'] })
    expectRefused(got, NOT_LISTENING)
  })

  it.each<[string, AppName, (app: string) => string, string[], Expected]>([
    ['X-Forwarded-Proto: https', 'local', (app) => `${app.replace('http:', 'https:')}/orders`, ['X-Forwarded-Proto: https'], NOT_LISTENING],
    [
      'X-Forwarded-Host and -Proto',
      'local',
      () => 'https://api.example.com/orders',
      ['X-Forwarded-Host: api.example.com', 'X-Forwarded-Proto: https'],
      NOT_LISTENING,
    ],
    [
      'X-Forwarded-Host with dpop.origin',
      'configured',
      () => 'https://evil.example/orders',
      ['X-Forwarded-Host: evil.example', 'X-Forwarded-Proto: https'],
      MISMATCH,
    ],
  ])('%s does not choose the origin (%s app)', async (_n, app, htu, headers, expected) => {
    expectRefused(await send(app, htu(base(app)), headers), expected)
  })
})
