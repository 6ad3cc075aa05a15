import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { start as startExpress } from '../../examples/express.js'
import { start as startKoa } from '../../examples/koa.js'
import { start as startFastify } from '../../examples/fastify.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

// `npm start -- --once` as a user's shell runs it: without vitest's NODE_ENV=test, so Express logs as it would.
function runStartOnce(): Promise<Run> {
  const { NODE_ENV: _nodeEnv, ...env } = process.env
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'examples/start.ts', '--once'],
      { cwd: root, env, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr })
      },
    )
  })
}

describe('npm start -- --once', () => {
  let run: Run
  beforeAll(async () => {
    run = await runStartOnce()
  }, 70_000)

  it('exits 0 with no stack trace', () => {
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).not.toMatch(/^\s+at /m)
    expect(run.stdout).toContain('Every answer was the expected one.')
  })

  it.each(['Express', 'Koa', 'Fastify'])('prints ready-to-paste curl lines for %s', (name) => {
    const url = new RegExp(`^${name}  (http://127\\.0\\.0\\.1:\\d+)$`, 'm').exec(run.stdout)?.[1]
    expect(url).toBeDefined()
    expect(run.stdout).toContain(`  curl -i ${url}/health\n`)
    const bearer = 'Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+'
    expect(run.stdout).toMatch(new RegExp(`^  curl -i -H "Authorization: ${bearer}" ${url}/orders$`, 'm'))
    expect(run.stdout).toMatch(new RegExp(`^  curl -i -X POST -H "Authorization: ${bearer}" ${url}/orders$`, 'm'))
    expect(run.stdout).toMatch(new RegExp(`^  curl -i -H "Authorization: ${bearer}" ${url}/admin$`, 'm'))
  })

  it.each(['Express', 'Koa', 'Fastify'])('shows the 200 / 401 / 403 answers of %s in the tour table', (name) => {
    const rows = run.stdout.split('\n').filter((line) => line.startsWith(`  ${name} `))
    const row = (request: string, token: string): string | undefined =>
      rows
        .find((r) => new RegExp(`^  ${name} +${request} +${token} `).test(r))
        ?.trim()
        .replace(/ +/g, ' ')
    expect(row('GET /orders', 'reader')).toBe(`${name} GET /orders reader 200 ✓`)
    expect(row('GET /orders', 'none')).toBe(`${name} GET /orders none 401 ✓ Bearer realm="api"`)
    expect(row('GET /orders', 'expired')).toBe(
      `${name} GET /orders expired 401 ✓ Bearer realm="api", error="invalid_token", error_description="Token expired"`,
    )
    expect(row('POST /orders', 'reader')).toBe(
      `${name} POST /orders reader 403 ✓ Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope", scope="orders:write"`,
    )
    expect(row('POST /orders', 'writer')).toBe(`${name} POST /orders writer 201 ✓`)
    expect(row('GET /admin', 'admin')).toBe(`${name} GET /admin admin 200 ✓`)
  })
})

describe.each([
  ['express', startExpress],
  ['koa', startKoa],
  ['fastify', startFastify],
])('examples/%s.ts start()', (_name, start) => {
  let issuer: TestIssuer
  let api: { url: string; close(): Promise<void> }
  beforeAll(async () => {
    issuer = await createTestIssuer()
    api = await start({ issuer: issuer.issuer, audience: issuer.audience })
  })
  afterAll(async () => {
    await api?.close()
    await issuer?.close()
  })

  it('serves /health without a token', async () => {
    const res = await fetch(`${api.url}/health`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  it('answers /me without a token with 401 and a bare challenge', async () => {
    const res = await fetch(`${api.url}/me`)
    await res.arrayBuffer()
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"')
  })

  it('answers /me with a token with its subject, scopes and roles', async () => {
    const token = await issuer.sign({ sub: 'alice', scope: 'orders:read', roles: ['admin'] })
    const res = await fetch(`${api.url}/me`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ sub: 'alice', scopes: ['orders:read'], roles: ['admin'] })
  })
})
