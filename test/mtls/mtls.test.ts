// RFC 8705 §3 certificate-bound access tokens (`mtls`): tokens from oidc-provider with
// `features.mTLS.certificateBoundAccessTokens`, sent over real HTTPS (`requestCert`, self-signed client
// certificates made by openssl) to all six framework versions; a trusted proxy's RFC 9440 `Client-Cert`.
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import type Express from 'express'
import fastify4 from 'fastify4'
import fastify5 from 'fastify5'
import { decodeJwt } from 'jose'
import type Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as expressAdapter from '../../adapters/express.js'
import * as fastifyAdapter from '../../adapters/fastify.js'
import * as koaAdapter from '../../adapters/koa.js'
import { createGuard, type GuardOptions } from '../../src/index.js'
import { derOf, makeCertificate, thumbprintOf, type TestCertificate } from '../helpers/certs.js'
import { rejection } from '../helpers/shared.js'
import { startProvider, type RunningProvider } from '../interop/provider.js'

const require = createRequire(import.meta.url)

interface Reply {
  status: number
  challenge: string | undefined
  body: string
}

let server: TestCertificate
let clientA: TestCertificate
let clientB: TestCertificate
let bound: RunningProvider
let plain: RunningProvider
let tokenA: string
let plainToken: string

const clientCertHeader = (cert: TestCertificate): string => `:${derOf(cert).toString('base64')}:`

beforeAll(async () => {
  ;[server, clientA, clientB] = await Promise.all([
    makeCertificate({ key: 'rsa', commonName: '127.0.0.1' }),
    makeCertificate({ key: 'ec-p256', commonName: 'client-a' }),
    makeCertificate({ key: 'rsa', commonName: 'client-b' }),
  ])
  ;[bound, plain] = await Promise.all([startProvider({ mtls: true }), startProvider()])
  tokenA = await bound.token({ clientCertificate: clientA.certPem })
  plainToken = await plain.token()
}, 60_000)
afterAll(async () => {
  await Promise.all([bound?.close(), plain?.close()])
})

const guardOptions = (provider: RunningProvider, extra: Partial<GuardOptions> = {}): GuardOptions => ({
  issuer: provider.issuer,
  audience: provider.resource,
  jwksUri: `${provider.issuer}/jwks`,
  ...extra,
})

/** A GET over HTTPS, presenting `cert` (or none) as the client certificate; a fresh connection each time. */
function get(url: string, token: string, cert?: TestCertificate, headers: Record<string, string> = {}): Promise<Reply> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: hostname,
        port,
        path: '/protected',
        headers: { authorization: `Bearer ${token}`, ...headers },
        ca: server.certPem,
        checkServerIdentity: () => undefined,
        agent: false,
        timeout: 10_000,
        ...(cert && { cert: cert.certPem, key: cert.keyPem }),
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, challenge: res.headers['www-authenticate'], body }))
      },
    )
    req.on('timeout', () => req.destroy(new Error('no response within 10 s')))
    req.on('error', reject)
    req.end()
  })
}

interface App {
  url: string
  close(): Promise<void>
}

const tls = () => ({ key: server.keyPem, cert: server.certPem, requestCert: true, rejectUnauthorized: false })

async function listen(server: Server, scheme: string): Promise<App> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

const listenHttps = (listener: RequestListener): Promise<App> => listen(createHttpsServer(tls(), listener), 'https')

interface FastifyApp {
  register(plugin: unknown, options?: unknown): PromiseLike<unknown>
  get(path: string, handler: (request: { auth?: { payload: { sub?: unknown } } }) => Promise<unknown>): unknown
  listen(options: { port: number; host: string }): Promise<string>
  close(): PromiseLike<unknown>
}

interface Framework {
  name: string
  start(options: GuardOptions): Promise<App>
}

const expressFramework = (name: string, express: typeof Express): Framework => ({
  name,
  start(options) {
    const app = express()
    app.set('env', 'test')
    app.use(expressAdapter.jwtGuard(options))
    app.get('/protected', (req, res) => void res.json({ sub: req.auth?.payload.sub }))
    return listenHttps(app)
  },
})

const koaFramework = (name: string, KoaApp: typeof Koa): Framework => ({
  name,
  start(options) {
    const app = new KoaApp()
    app.silent = true
    app.use(koaAdapter.jwtGuard(options))
    app.use((ctx) => {
      ctx.body = { sub: ctx.state.auth?.payload.sub }
    })
    return listenHttps(app.callback())
  },
})

const fastifyFramework = (name: string, create: (options: { https: ReturnType<typeof tls> }) => unknown): Framework => ({
  name,
  async start(options) {
    const app = create({ https: tls() }) as FastifyApp
    await app.register(fastifyAdapter.jwtGuard, options)
    app.get('/protected', async (request) => ({ sub: request.auth?.payload.sub }))
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    return { url, close: async () => void (await app.close()) }
  },
})

const FRAMEWORKS: Framework[] = [
  expressFramework('express4', require('express4') as typeof Express),
  expressFramework('express5', require('express5') as typeof Express),
  koaFramework('koa2', require('koa2') as typeof Koa),
  koaFramework('koa3', require('koa3') as typeof Koa),
  fastifyFramework('fastify4', (options) => fastify4(options)),
  fastifyFramework('fastify5', (options) => fastify5(options)),
]

const refused = (reply: Reply, description: string) => {
  expect(reply.status).toBe(401)
  expect(reply.challenge).toContain('error="invalid_token"')
  expect(reply.challenge).toContain(`error_description="${description}"`)
}

it("oidc-provider binds the token to the client certificate's SHA-256 thumbprint", () => {
  expect(decodeJwt(tokenA).cnf).toEqual({ 'x5t#S256': thumbprintOf(clientA) })
  expect(decodeJwt(plainToken).cnf).toBeUndefined()
})

describe.each(FRAMEWORKS)('mtls: true over HTTPS on $name', (framework) => {
  let app: App
  let unboundApp: App
  let plainApp: App
  beforeAll(async () => {
    ;[app, unboundApp, plainApp] = await Promise.all([
      framework.start(guardOptions(bound, { mtls: true })),
      framework.start(guardOptions(bound)),
      framework.start(guardOptions(plain, { mtls: true })),
    ])
  }, 30_000)
  afterAll(async () => {
    await Promise.all([app?.close(), unboundApp?.close(), plainApp?.close()])
  })

  it('accepts the token with its certificate, also once cached, and refuses it with another or none', async () => {
    expect(await get(app.url, tokenA, clientA)).toMatchObject({ status: 200, body: JSON.stringify({ sub: 'orders-client' }) })
    expect((await get(app.url, tokenA, clientA)).status).toBe(200)
    refused(await get(app.url, tokenA, clientB), 'Token not bound to the client certificate')
    refused(await get(app.url, tokenA), 'Client certificate required')
    expect((await get(app.url, tokenA, clientA)).status).toBe(200)
  })

  it('ignores a Client-Cert header from a peer that is not a trusted proxy', async () => {
    refused(await get(app.url, tokenA, clientB, { 'client-cert': clientCertHeader(clientA) }), 'Token not bound to the client certificate')
    refused(await get(app.url, tokenA, undefined, { 'client-cert': clientCertHeader(clientA) }), 'Client certificate required')
  })

  it('leaves tokens without cnf alone, with or without a certificate', async () => {
    expect((await get(plainApp.url, plainToken)).status).toBe(200)
    expect((await get(plainApp.url, plainToken, clientB)).status).toBe(200)
  })

  it('without mtls, a certificate-bound token stays refused, certificate or not', async () => {
    const reply = await get(unboundApp.url, tokenA, clientA)
    expect(reply.status).toBe(401)
    expect(reply.challenge).toContain('error_description="Token confirmation method not supported"')
  })
})

describe('behind a TLS-terminating proxy (RFC 9440 Client-Cert)', () => {
  let app: App
  let untrusted: App
  const start = async (options: GuardOptions): Promise<App> => {
    const express = require('express5') as typeof Express
    const e = express()
    e.set('env', 'test')
    e.use(expressAdapter.jwtGuard(options))
    e.get('/protected', (req, res) => void res.json({ sub: req.auth?.payload.sub }))
    return listen(createHttpServer(e), 'http')
  }
  beforeAll(async () => {
    ;[app, untrusted] = await Promise.all([
      start(guardOptions(bound, { mtls: { trustedProxies: ['127.0.0.0/8', '::1'] } })),
      start(guardOptions(bound, { mtls: { certificateHeader: 'X-Client-Cert', trustedProxies: ['10.0.0.0/8'] } })),
    ])
  }, 30_000)
  afterAll(async () => {
    await Promise.all([app?.close(), untrusted?.close()])
  })

  const send = async (at: App, headers: [string, string][]): Promise<Reply> => {
    const res = await fetch(`${at.url}/protected`, { headers: [['authorization', `Bearer ${tokenA}`], ...headers] })
    return { status: res.status, challenge: res.headers.get('www-authenticate') ?? undefined, body: await res.text() }
  }

  it("believes a trusted proxy's header", async () => {
    expect((await send(app, [['client-cert', clientCertHeader(clientA)]])).status).toBe(200)
    refused(await send(app, [['client-cert', clientCertHeader(clientB)]]), 'Token not bound to the client certificate')
  })

  it.each([
    ['no header', () => []],
    ['bare base64, not a byte sequence', () => [['client-cert', derOf(clientA).toString('base64')]]],
    ['a PEM', () => [['client-cert', clientA.certPem.replace(/\n/g, ' ')]]],
    ['base64url', () => [['client-cert', `:${derOf(clientA).toString('base64url')}:`]]],
    ['an empty sequence', () => [['client-cert', '::']]],
  ] as [string, () => [string, string][]][])('refuses %s: no certificate', async (_, headers) => {
    refused(await send(app, headers()), 'Client certificate required')
  })

  it('ignores the header from a peer outside trustedProxies', async () => {
    refused(await send(untrusted, [['x-client-cert', clientCertHeader(clientA)]]), 'Client certificate required')
  })
})

describe('the core', () => {
  const base = () => guardOptions(bound)
  const request = (connection: Record<string, unknown>, headers: Record<string, string> = {}) => ({
    headers: { authorization: `Bearer ${tokenA}`, ...headers },
    connection,
  })

  it('normalises IPv4-mapped IPv6 peers for trustedProxies', async () => {
    const guard = createGuard({ ...base(), mtls: { trustedProxies: ['192.0.2.7'] } })
    const header = { 'client-cert': clientCertHeader(clientA) }
    await expect(guard.authenticate(request({ remoteAddress: '::ffff:192.0.2.7' }, header))).resolves.toMatchObject({
      cnf: { 'x5t#S256': thumbprintOf(clientA) },
    })
    expect((await rejection(guard.authenticate(request({ remoteAddress: '192.0.2.8' }, header)))).code).toBe('ERR_MTLS_BINDING_INVALID')
  })

  it('refuses a repeated Client-Cert header', async () => {
    const guard = createGuard({ ...base(), mtls: { trustedProxies: ['192.0.2.7'] } })
    const line = clientCertHeader(clientA)
    const err = await rejection(
      guard.authenticate({
        ...request({ remoteAddress: '192.0.2.7' }, { 'client-cert': line }),
        rawHeaders: ['Client-Cert', line, 'client-cert', line],
      }),
    )
    expect([err.code, err.context.reason]).toEqual(['ERR_MTLS_BINDING_INVALID', 'no_certificate'])
  })

  it('guard.verify has no certificate: refused, unless the caller checks the binding', async () => {
    const guard = createGuard({ ...base(), mtls: true })
    expect((await rejection(guard.verify(tokenA))).code).toBe('ERR_MTLS_BINDING_INVALID')
    await expect(guard.verify(tokenA, { bindingCheckedElsewhere: true })).resolves.toMatchObject({
      cnf: { 'x5t#S256': thumbprintOf(clientA) },
    })
    const without = createGuard(base())
    expect((await rejection(without.verify(tokenA, { bindingCheckedElsewhere: true }))).code).toBe('ERR_JWT_CNF_UNSUPPORTED')
  })

  it('explains the failure at the claims step', async () => {
    const explanation = await createGuard({ ...base(), mtls: true }).explain(tokenA)
    expect(JSON.stringify(explanation)).toContain('ERR_MTLS_BINDING_INVALID')
  })

  it.each([
    [{ mtls: 'yes' }, /option "mtls" must be true/],
    [{ mtls: {} }, /option "mtls.trustedProxies" is required/],
    [{ mtls: { certificateHeader: 'Client-Cert' } }, /option "mtls.trustedProxies" is required/],
    [{ mtls: { trustedProxies: [] } }, /option "mtls.trustedProxies" must be a non-empty array/],
    [{ mtls: { trustedProxies: ['10.0.0.0/33'] } }, /option "mtls.trustedProxies\[0\]" has a bad prefix length/],
    [{ mtls: { trustedProxies: ['127.0.0.1', 'proxy.internal'] } }, /option "mtls.trustedProxies\[1\]" is not an address/],
    [
      { mtls: { trustedProxies: ['::1'], certificateHeader: 'Client Cert' } },
      /option "mtls.certificateHeader" must be an HTTP header name/,
    ],
    [{ mtls: { trustedProxies: ['::1'], proxies: [] } }, /option "mtls" has an unknown member "proxies"/],
  ])('refuses %j at construction', (extra, message) => {
    expect(() => createGuard({ ...base(), ...(extra as Partial<GuardOptions>) })).toThrow(message)
  })
})
