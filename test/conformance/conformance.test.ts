import { STATUS_CODES } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { appSpecs, FRAMEWORKS, type AppName, type Family, type Running } from './apps.js'
import { CASES, type Case, type ExpectedError } from './cases.js'
import { getRaw, type Reply } from '../helpers/shared.js'

async function viaFetch(url: string, headers: Record<string, string>): Promise<Reply> {
  const res = await fetch(url, { headers })
  return {
    status: res.status,
    headers: {
      'www-authenticate': res.headers.get('www-authenticate') ?? undefined,
      'content-type': res.headers.get('content-type') ?? undefined,
    },
    body: await res.text(),
  }
}

function send(app: Running, c: Case, token: string | undefined): Promise<Reply> {
  const url = app.url + c.path
  const headers = { ...c.headers }
  if (token !== undefined) headers.authorization = `${c.scheme ?? 'Bearer'} ${token}`
  if (!c.twice) return viaFetch(url, headers)
  return getRaw(url, [`Authorization: ${headers.authorization}`, `Authorization: ${headers.authorization}`])
}

/** Each framework's default error handler, rendering a GuardError as it is. */
const errorBody: Record<Family, (reply: Reply, expected: ExpectedError) => void> = {
  // finalhandler outside production: an HTML page with `err.stack`, which for a GuardError is one frameless line.
  express: (reply, { code, message }) => {
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(reply.body).toContain(`<pre>GuardError [${code}]: ${message}</pre>`)
  },
  // ctx.onerror: the message as text, since the error is exposed.
  koa: (reply, { message }) => {
    expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(reply.body).toBe(message)
  },
  fastify: (reply, { code, message }) => {
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(JSON.parse(reply.body)).toEqual({ statusCode: reply.status, code, error: STATUS_CODES[reply.status], message })
  },
}

let issuer: TestIssuer

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['RS256', 'ES256', 'EdDSA'] })
})

afterAll(async () => {
  await issuer?.close()
})

// Tuples with '%s': a `$name` title would print the name quoted.
describe.each(FRAMEWORKS.map((f) => [f.name, f] as const))('%s', (_name, framework) => {
  const apps: Partial<Record<AppName, Running>> = {}

  beforeAll(async () => {
    for (const [name, spec] of Object.entries(appSpecs(issuer))) apps[name as AppName] = await framework.start(spec)
  })

  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app.close()))
  })

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const token = await c.token?.(issuer)
    const reply = await send(apps[c.app ?? 'main']!, c, token)

    expect(reply.status).toBe(c.status)
    expect(reply.headers['www-authenticate']).toBe(c.challenge)
    if (token !== undefined) expect(reply.body).not.toContain(token)
    expect(reply.body).not.toContain('    at ')
    if (c.body !== undefined) expect(JSON.parse(reply.body)).toEqual(c.body)
    if (c.error) errorBody[framework.family](reply, c.error)
  })
})
