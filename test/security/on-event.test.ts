import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// issue 14 item 1: an onEvent returning a rejected promise, in a process of its own with Node's default
// `--unhandled-rejections`, where one unhandled rejection ends the process.
const root = fileURLToPath(new URL('../..', import.meta.url))
const fixture = fileURLToPath(new URL('./fixtures/rejecting-on-event.ts', import.meta.url))
const secret = randomBytes(32).toString('base64url')

let child: ChildProcess
let base = ''
let stderr = ''

beforeAll(async () => {
  // No NODE_OPTIONS of the runner's: the child runs with Node's defaults.
  child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', JWTGUARD_TEST_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const port = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      if (out.includes('\n')) resolve(out.trim())
    })
    child.once('exit', (code) => reject(new Error(`fixture exited (${code}) before listening: ${stderr}`)))
  })
  base = `http://127.0.0.1:${port}`
}, 60_000)

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
})

const sign = (key: string, exp: number | string = '10m') =>
  new SignJWT({ iss: 'https://issuer.test', aud: 'https://api.test' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(exp)
    .sign(Buffer.from(key))

describe('an onEvent that rejects, in a real server process', () => {
  it('answers 100 anonymous and bad requests with 401, stays alive, and warns once', async () => {
    const forged = await sign(randomBytes(32).toString('base64url'))
    const expired = await sign(secret, Math.floor(Date.now() / 1000) - 3600)
    const headers: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: 'Bearer not.a.token' },
      { authorization: `Bearer ${forged}` },
      { authorization: `Bearer ${expired}` },
    ]
    const statuses: number[] = []
    // Ten at a time, 100 in all: bounded in count, and each with its own deadline.
    for (let batch = 0; batch < 10; batch++) {
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          fetch(`${base}/orders`, { headers: headers[(batch * 10 + i) % headers.length], signal: AbortSignal.timeout(15_000) }),
        ),
      )
      for (const reply of replies) {
        statuses.push(reply.status)
        await reply.arrayBuffer()
      }
    }
    expect(statuses).toHaveLength(100)
    expect(statuses).toEqual(Array.from({ length: 100 }, () => 401))

    // Still serving after the last rejection had its turn (unhandled rejections are processed between turns).
    const after = await fetch(`${base}/orders`, { signal: AbortSignal.timeout(15_000) })
    expect(after.status).toBe(401)
    expect(child.exitCode).toBe(null)
    expect(child.signalCode).toBe(null)

    const warnings = stderr.split('\n').filter((line) => line.includes('jwtguard'))
    expect(warnings, stderr).toHaveLength(1)
    expect(warnings[0]).toContain('JWTGUARD_ON_EVENT_FAILED')
    expect(stderr).not.toContain('UnhandledPromiseRejection')
  }, 120_000)
})
