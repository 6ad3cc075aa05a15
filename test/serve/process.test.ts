// `jwtguard serve` as a process (through tsx): the bound address on stdout, SIGHUP reload without dropping a
// request (a bad file keeps the running config), SIGTERM draining a request in flight, then exit 0.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const AUDIENCE = 'https://api.example.test'
let idp: TestIssuer
let dir: string
let file: string
let child: ChildProcess | undefined
let url: string
const stderr: string[] = []

const config = (routes: unknown[]) => ({
  listen: { port: 0 },
  guard: { issuer: idp.issuer, audience: AUDIENCE, jwksUri: idp.jwksUri, jwksCache: { cooldownDuration: 0 } },
  routes,
})

/** Resolves once the log has a line for which `test` holds (bounded). */
async function logLine(test: (entry: Record<string, unknown>) => boolean, from = 0): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const found = stderr
      .slice(from)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find(test)
    if (found) return found
    await sleep(50)
  }
  throw new Error(`no such log line in:\n${stderr.join('\n')}`)
}

const verify = (uri: string, token?: string) =>
  fetch(`${url}/verify`, {
    headers: { 'x-original-method': 'GET', 'x-original-uri': uri, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    signal: AbortSignal.timeout(20_000),
  })

beforeAll(async () => {
  idp = await createTestIssuer({ algorithms: ['ES256'], audience: AUDIENCE })
  dir = await mkdtemp(join(tmpdir(), 'jwtguard-serve-process-'))
  file = join(dir, 'jwtguard.json')
  await writeFile(file, JSON.stringify(config([{ match: 'GET /reports/*', scopes: ['reports:read'] }])))
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--config', file], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line))
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 30 s:\n${stderr.join('\n')}`)), 30_000)
    createInterface({ input: child!.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      resolve(line)
    })
  })
  const listening = JSON.parse(first) as { msg: string; host: string; port: number }
  expect(listening).toMatchObject({ msg: 'listening', host: '127.0.0.1' })
  url = `http://127.0.0.1:${listening.port}`
})
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL')
  await idp?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('jwtguard serve (process)', () => {
  it('reloads on SIGHUP, keeps answering meanwhile, and keeps the old config when the new one is bad', async () => {
    const token = await idp.sign({ scope: 'audit' })
    expect((await verify('/reports/1', token)).status).toBe(403)
    await writeFile(file, JSON.stringify(config([{ match: 'GET /reports/*', scopes: ['audit'] }])))
    // Requests keep flowing across the reload: none is dropped.
    const from = stderr.length
    child!.kill('SIGHUP')
    const during = await Promise.all(Array.from({ length: 20 }, () => verify('/reports/1', token)))
    for (const res of during) expect([200, 403]).toContain(res.status)
    await logLine((l) => l.msg === 'reloaded', from)
    expect((await verify('/reports/1', token)).status).toBe(200)

    await writeFile(file, JSON.stringify(config([{ match: 'GET reports', scopes: ['audit'] }])))
    const before = stderr.length
    child!.kill('SIGHUP')
    const failed = await logLine((l) => l.msg === 'reload_failed', before)
    expect(failed.problems).toEqual(['routes[0] ("GET reports"): field "match" must have a path starting with "/"'])
    expect((await verify('/reports/1', token)).status).toBe(200)
  })

  it('drains a request in flight on SIGTERM, then exits 0', async () => {
    // A token of a key the gateway does not hold yet: its answer waits on a slow JWKS fetch.
    const fresh = await idp.addKey()
    idp.setJwksDelay(1_500)
    const token = await idp.sign({ scope: 'audit' }, { key: fresh })
    const fetchesBefore = idp.requests.jwks
    const inFlight = verify('/reports/1', token)
    // In flight once the gateway is fetching the new key (bounded wait, no fixed sleep under load).
    for (let i = 0; i < 200 && idp.requests.jwks === fetchesBefore; i++) await sleep(50)
    expect(idp.requests.jwks).toBeGreaterThan(fetchesBefore)
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)))
    child!.kill('SIGTERM')
    const res = await inFlight
    expect(res.status).toBe(200)
    idp.setJwksDelay(0)
    expect(await Promise.race([exited, sleep(15_000).then(() => 'still running')])).toBe(0)
    await expect(verify('/reports/1', token)).rejects.toThrow()
  })
})

describe('jwtguard serve (process, JWT_* environment alone)', () => {
  it('starts on --listen with the guard from the environment, and any valid token passes', async () => {
    const env = { ...process.env, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: AUDIENCE, JWT_JWKS_URI: idp.jwksUri }
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--listen', '127.0.0.1:0'], {
      cwd: repo,
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no listening line within 30 s')), 30_000)
        createInterface({ input: proc.stdout! }).once('line', (l) => {
          clearTimeout(timer)
          resolve(l)
        })
      })
      const { port } = JSON.parse(line) as { port: number }
      const ask = (token?: string) =>
        fetch(`http://127.0.0.1:${port}/verify`, {
          headers: { 'x-original-method': 'GET', 'x-original-uri': '/any', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          signal: AbortSignal.timeout(20_000),
        })
      const ok = await ask(await idp.sign())
      expect(ok.status).toBe(200)
      expect(ok.headers.get('x-auth-subject')).toBe('user-123')
      expect((await ask()).status).toBe(401)
    } finally {
      proc.kill('SIGKILL')
    }
  })
})
