// RFC 6750 §2.2 form-encoded body tokens (`tokenFrom: { body: 'access_token' }`), read from the body
// the app's own parser left, on all six framework versions through real HTTP: only a form post
// (POST, PUT, PATCH) is read; a GET body or a JSON body carries no token; two places is a 400; a form
// post no parser parsed is a 500 naming the parser to add (in the logs, not the client's body).
import { createServer, type RequestListener, type Server } from 'node:http'
import { createRequire } from 'node:module'
import { connect, type AddressInfo } from 'node:net'
import bodyParser from '@koa/bodyparser'
import type Express from 'express'
import fastify4 from 'fastify4'
import fastify5 from 'fastify5'
import formbody4 from 'formbody4'
import formbody5 from 'formbody5'
import type Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as expressAdapter from '../../adapters/express.js'
import * as fastifyAdapter from '../../adapters/fastify.js'
import * as koaAdapter from '../../adapters/koa.js'
import { createGuard, type GuardOptions } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { rejection } from '../helpers/shared.js'

const require = createRequire(import.meta.url)

interface Reply {
  status: number
  headers: Record<string, string>
  body: string
}

/** One HTTP/1.1 request over a bare socket: fetch cannot send a GET with a body. */
async function send(url: string, method: string, headers: Record<string, string>, body = ''): Promise<Reply> {
  const { hostname, port, pathname } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.setTimeout(10_000, () => socket.destroy(new Error('no response within 10 s')))
  const lines = [`${method} ${pathname} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close']
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  if (body !== '') lines.push(`Content-Length: ${Buffer.byteLength(body)}`)
  socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`)
  const chunks: Buffer[] = []
  for await (const chunk of socket) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks).toString('latin1')
  const split = raw.indexOf('\r\n\r\n')
  const [statusLine, ...rest] = raw.slice(0, split).split('\r\n')
  const out: Record<string, string> = {}
  for (const line of rest) out[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
  return { status: Number(statusLine!.split(' ')[1]), headers: out, body: raw.slice(split + 4) }
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' }

interface App {
  url: string
  /** Errors the framework handed to its logs (500s). */
  logged: string[]
  close(): Promise<void>
}

async function listen(listener: RequestListener, logged: string[]): Promise<App> {
  const server: Server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    logged,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

const reply = (sub: unknown) => ({ sub })

interface Framework {
  name: string
  /** The parser the 500 names. */
  parser: string
  start(options: GuardOptions, parser: boolean): Promise<App>
}

const expressFramework = (name: string, express: typeof Express): Framework => ({
  name,
  parser: 'express.urlencoded()',
  start(options, parser) {
    const app = express()
    const logged: string[] = []
    if (parser) app.use(express.urlencoded({ extended: false }), express.json())
    app.use(expressAdapter.jwtGuard(options))
    app.all('/protected', (req, res) => void res.json(reply(req.auth?.payload.sub)))
    app.use(((err, _req, res, _next) => {
      if ((err as { status?: number }).status === 500) logged.push((err as Error).message)
      res.status((err as { status?: number }).status ?? 500).set((err as { headers?: Record<string, string> }).headers ?? {})
      res.send((err as { expose?: boolean }).expose ? (err as Error).message : 'Internal Server Error')
    }) as Express.ErrorRequestHandler)
    return listen(app, logged)
  },
})

const koaFramework = (name: string, KoaApp: typeof Koa): Framework => ({
  name,
  parser: '@koa/bodyparser',
  start(options, parser) {
    const app = new KoaApp()
    const logged: string[] = []
    app.silent = true
    app.on('error', (err: Error & { status?: number }) => {
      if (err.status === 500) logged.push(err.message)
    })
    if (parser) app.use(bodyParser())
    app.use(koaAdapter.jwtGuard(options))
    app.use((ctx) => {
      ctx.body = reply(ctx.state.auth?.payload.sub)
    })
    return listen(app.callback(), logged)
  },
})

interface FastifyApp {
  register(plugin: unknown, options?: unknown): PromiseLike<unknown>
  route(options: {
    method: string[]
    url: string
    handler: (request: { auth?: { payload: { sub?: string } } }) => Promise<unknown>
  }): unknown
  listen(options: { port: number; host: string }): Promise<string>
  close(): PromiseLike<unknown>
}

const fastifyFramework = (name: string, create: () => unknown, formbody: unknown): Framework => ({
  name,
  parser: '@fastify/formbody',
  async start(options, parser) {
    const app = create() as FastifyApp
    if (parser) await app.register(formbody)
    await app.register(fastifyAdapter.jwtGuard, options)
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/protected',
      handler: async (request) => reply(request.auth?.payload.sub),
    })
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    return { url, logged: [], close: async () => void (await app.close()) }
  },
})

const FRAMEWORKS: Framework[] = [
  expressFramework('express4', require('express4') as typeof Express),
  expressFramework('express5', require('express5') as typeof Express),
  koaFramework('koa2', require('koa2') as typeof Koa),
  koaFramework('koa3', require('koa3') as typeof Koa),
  fastifyFramework('fastify4', () => fastify4({ logger: false }), formbody4),
  fastifyFramework('fastify5', () => fastify5({ logger: false }), formbody5),
]

let issuer: TestIssuer
let token: string
beforeAll(async () => {
  issuer = await createTestIssuer()
  token = await issuer.sign({ sub: 'form-user' })
}, 30_000)
afterAll(async () => {
  await issuer?.close()
})

const options = (): GuardOptions => ({ ...issuer.guardOptions(), tokenFrom: ['header', { body: 'access_token' }] })
const form = (fields: Record<string, string | string[]>): string => {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) params.append(name, v)
  return params.toString()
}

describe.each(FRAMEWORKS)('tokenFrom: { body } on $name', (framework) => {
  let app: App
  beforeAll(async () => {
    app = await framework.start(options(), true)
  }, 30_000)
  afterAll(async () => {
    await app?.close()
  })
  const at = () => `${app.url}/protected`

  it.each(['POST', 'PUT', 'PATCH'])('reads the token of a form %s', async (method) => {
    const res = await send(at(), method, FORM, form({ access_token: token, other: 'x' }))
    expect([res.status, JSON.parse(res.body)]).toEqual([200, { sub: 'form-user' }])
  })

  it('reads it with a charset parameter and any case of the media type', async () => {
    const res = await send(
      at(),
      'POST',
      { 'Content-Type': 'Application/X-WWW-Form-Urlencoded; charset=utf-8' },
      form({ access_token: token }),
    )
    expect(res.status).toBe(200)
  })

  it.each([
    ['a GET with a form body', 'GET', FORM, (): string => form({ access_token: token })],
    ['a DELETE with a form body', 'DELETE', FORM, (): string => form({ access_token: token })],
    ['a JSON body', 'POST', { 'Content-Type': 'application/json' }, (): string => JSON.stringify({ access_token: token })],
    ['an empty form post', 'POST', FORM, (): string => ''],
    ['a form without the field', 'POST', FORM, (): string => form({ token })],
    ['an empty field', 'POST', FORM, (): string => form({ access_token: '' })],
  ] as const)('does not read %s: 401 with no error code', async (_, method, headers, body) => {
    const res = await send(at(), method, headers, body())
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

  it('refuses a token in the header and the body: 400 invalid_request', async () => {
    const res = await send(at(), 'POST', { ...FORM, Authorization: `Bearer ${token}` }, form({ access_token: token }))
    expect(res.status).toBe(400)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_request"/)
  })

  it('refuses the field sent twice: 400 invalid_request', async () => {
    const res = await send(at(), 'POST', FORM, form({ access_token: [token, token] }))
    expect(res.status).toBe(400)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_request"/)
  })

  it('a bad body token is 401 invalid_token', async () => {
    const res = await send(at(), 'POST', FORM, form({ access_token: `${token}x` }))
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/)
  })
})

describe.each(FRAMEWORKS.filter((f) => !f.name.startsWith('fastify')))('$name without a body parser', (framework) => {
  let app: App
  beforeAll(async () => {
    app = await framework.start(options(), false)
  }, 30_000)
  afterAll(async () => {
    await app?.close()
  })

  it('answers a form post 500, naming the parser in the logs and not to the client', async () => {
    const res = await send(`${app.url}/protected`, 'POST', FORM, form({ access_token: token }))
    expect(res.status).toBe(500)
    expect(res.body).not.toContain(framework.parser)
    expect(app.logged).toHaveLength(1)
    expect(app.logged[0]).toContain(framework.parser)
  })

  it('still serves header tokens and GETs', async () => {
    const res = await send(`${app.url}/protected`, 'GET', { Authorization: `Bearer ${token}` })
    expect(res.status).toBe(200)
  })
})

describe.each(FRAMEWORKS.filter((f) => f.name.startsWith('fastify')))('$name without @fastify/formbody', (framework) => {
  it('fails at start-up, naming the plugin', async () => {
    await expect(framework.start(options(), false)).rejects.toThrow(/@fastify\/formbody/)
  })
})

describe('the core, with a plain request', () => {
  const guard = () => createGuard(options())
  const post = (body: unknown, extra: Record<string, string> = {}) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '10', ...extra },
    body,
  })

  it('reads own string fields only', async () => {
    await expect(guard().authenticate(post({ access_token: token }))).resolves.toMatchObject({ payload: { sub: 'form-user' } })
    const inherited = Object.create({ access_token: token }) as object
    expect((await rejection(guard().authenticate(post(inherited)))).code).toBe('ERR_JWT_MISSING')
    expect((await rejection(guard().authenticate(post({ access_token: { a: token } })))).code).toBe('ERR_JWT_MISSING')
  })

  it.each([undefined, 'access_token=x', ['x']])('a form post whose body is %j is a 500 ERR_BODY_NOT_PARSED', async (body) => {
    const err = await rejection(guard().authenticate(post(body)))
    expect([err.status, err.code, err.expose]).toEqual([500, 'ERR_BODY_NOT_PARSED', false])
    expect(err.headers['WWW-Authenticate']).toBeUndefined()
  })

  it('a body-less POST carries no token and needs no parser', async () => {
    const err = await rejection(guard().authenticate({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }))
    expect(err.code).toBe('ERR_JWT_MISSING')
  })

  it('is validated at construction and listed in resource metadata', () => {
    expect(() => createGuard({ ...options(), tokenFrom: { body: '' } } as GuardOptions)).toThrow(/option "tokenFrom"/)
    const g = createGuard({
      ...options(),
      resourceMetadata: { resource: 'https://api.example/', authorizationServers: [issuer.issuer] },
    })
    expect(g.protectedResource?.document).toMatchObject({ bearer_methods_supported: ['header', 'body'] })
  })
})
