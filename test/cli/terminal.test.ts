// Issue 14, item 11: a token's strings never drive the terminal. Claim and header names and values carrying ESC
// sequences, C1 controls (CSI is U+009B), DEL, bidi overrides or newlines are shown escaped (`\u001b`), by
// `inspect` and `verify`, plain and in colour; `--json` stays JSON that parses back to the token's own values.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

const execute = promisify(execFile)
const repo = fileURLToPath(new URL('../../', import.meta.url))
const SECRET = 'cli-terminal-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF'

// Every character the issue names, each in a value and in a name.
const EVIL = {
  esc: '\u001b]0;owned\u0007\u001b[2J',
  csi: '\u009b31m',
  del: 'a\u007fb',
  bidi: 'user\u202egnp.exe\u2066\u2069\u200e\u200f\u061c\u202a\u202b\u202c\u202d',
  newline: 'x\nPASS signature  forged\r',
}
// Unsafe in what reaches the terminal: C0 but \n, DEL, C1, the bidi controls, line separators.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

let issuer: TestIssuer
let base: string[]
let token: string
let foreign: string

beforeAll(async () => {
  issuer = await createTestIssuer({ secret: new TextEncoder().encode(SECRET) })
  base = ['--issuer', issuer.issuer, '--audience', issuer.audience as string, '--secret-env', 'CLI_SECRET']
  const claims = { ...EVIL, ['name\u001b[31m\u202e']: EVIL.esc, nested: { ['k\u009b']: [EVIL.bidi] } }
  const header = { typ: `jwt${EVIL.bidi}`, ['h\u001b[1m']: EVIL.csi }
  token = await issuer.sign(claims, { alg: 'HS256', header })
  // Refused at the issuer step, whose detail quotes the token's `iss`.
  foreign = await issuer.sign({ iss: `https://evil.example/${EVIL.esc}${EVIL.csi}${EVIL.bidi}` }, { alg: 'HS256', kid: `k${EVIL.csi}` })
})
afterAll(() => issuer?.close())

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execute(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...argv], {
      cwd: repo,
      timeout: 60_000,
      env: { ...process.env, CLI_SECRET: SECRET, NO_COLOR: '' },
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

function expectSafe(text: string): void {
  expect(text).not.toMatch(UNSAFE)
}

describe('the token doctor escapes what a token says (child process)', () => {
  it('inspect: names and values shown as \\u001b …, one line per field', async () => {
    const { code, stdout } = await cli(['inspect', token])
    expect(code).toBe(0)
    expectSafe(stdout)
    expect(stdout).toContain('\\u001b]0;owned\\u0007\\u001b[2J')
    expect(stdout).toContain('\\u009b31m')
    expect(stdout).toContain('user\\u202egnp.exe\\u2066\\u2069\\u200e\\u200f\\u061c\\u202a\\u202b\\u202c\\u202d')
    expect(stdout).toContain('name\\u001b[31m\\u202e')
    expect(stdout).toContain('h\\u001b[1m')
    // A newline in a value cannot forge a line of the output.
    expect(stdout.split('\n').some((line) => line.startsWith('PASS'))).toBe(false)
  }, 90_000)

  it('verify (plain): the failing detail quotes the token escaped', async () => {
    const { code, stdout } = await cli(['verify', foreign, ...base])
    expect(code).toBe(1)
    expectSafe(stdout)
    expect(stdout).toContain('FAIL issuer')
    expect(stdout).toContain('\\u009b31m')
    expect(stdout).toContain('\\u202e')
  }, 90_000)

  it('verify --json: valid JSON, escaped, that parses to the token’s own values', async () => {
    const { code, stdout } = await cli(['verify', token, ...base, '--json'])
    expect(code).toBe(0)
    expectSafe(stdout)
    const parsed = JSON.parse(stdout) as { ok: boolean; payload: Record<string, unknown>; header: Record<string, unknown> }
    expect(parsed.ok).toBe(true)
    expect(parsed.payload.bidi).toBe(EVIL.bidi)
    expect(parsed.payload.csi).toBe(EVIL.csi)
    expect(parsed.payload['name\u001b[31m\u202e']).toBe(EVIL.esc)
    expect(parsed.header['h\u001b[1m']).toBe(EVIL.csi)
  }, 90_000)
})

describe('in colour (a terminal, in process)', () => {
  it('verify: only the marks are escape sequences, the token’s are shown escaped', async () => {
    let stdout = ''
    const code = await main(['verify', foreign, ...base], {
      stdout: { write: (text: string) => (stdout += text), isTTY: true },
      stderr: { write: () => true },
      stdin: Readable.from(['']),
      env: { CLI_SECRET: SECRET },
    })
    expect(code).toBe(1)
    expect(stdout).toContain('\x1b[31m✘\x1b[0m issuer')
    // eslint-disable-next-line no-control-regex
    expectSafe(stdout.replace(/\x1b\[(32|31|2)m[✔✘·]\x1b\[0m/g, ''))
    expect(stdout).toContain('\\u001b]0;owned')
  })
})
