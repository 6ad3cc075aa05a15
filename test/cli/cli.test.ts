// The `jwtguard` command: `main()` in-process against a real test issuer (discovery and JWKS over loopback),
// plus the script entry through tsx and the built file's shebang.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { exportJWK, generateKeyPair } from 'jose'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

const execute = promisify(execFile)
const repo = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; bin: { jwtguard: string } }
// An ASCII secret, so that it can travel in an environment variable as the CLI expects.
const SECRET = 'cli-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ'

let issuer: TestIssuer
let base: string[]

beforeAll(async () => {
  issuer = await createTestIssuer({ secret: new TextEncoder().encode(SECRET) })
  base = ['--issuer', issuer.issuer, '--audience', issuer.audience as string]
})
afterAll(() => issuer.close())

interface Run {
  code: number
  stdout: string
  stderr: string
}

async function run(
  argv: string[],
  { env = {}, stdin = '', tty = false }: { env?: Record<string, string>; stdin?: string; tty?: boolean } = {},
) {
  const out: Run = { code: -1, stdout: '', stderr: '' }
  out.code = await main(argv, {
    stdout: { write: (text: string) => (out.stdout += text), isTTY: tty },
    stderr: { write: (text: string) => (out.stderr += text) },
    stdin: Readable.from([stdin]),
    env,
  })
  return out
}

/** The one failing step of a `verify` run: its check and its detail. */
function failure(stdout: string): { check: string; detail: string } {
  const failed = stdout.split('\n').filter((line) => line.startsWith('FAIL '))
  expect(failed).toHaveLength(1)
  const [, check, detail] = /^FAIL (\S+) +(.*)$/.exec(failed[0]!)!
  return { check: check!, detail: detail! }
}

function flipSignature(token: string): string {
  const [header, payload, signature] = token.split('.')
  const bytes = Buffer.from(signature!, 'base64url')
  bytes[0]! ^= 0x01
  return `${header}.${payload}.${bytes.toString('base64url')}`
}

const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid

describe('jwtguard (in-process, clock frozen)', () => {
  const NOW = Date.UTC(2026, 10, 25, 12, 0, 0)
  beforeEach(() => {
    // Only Date: the guard's fetch timeouts keep running on real timers.
    vi.useFakeTimers({ toFake: ['Date'], now: NOW })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  describe('inspect', () => {
    it('decodes header and claims, marked UNVERIFIED, with NumericDates in human form', async () => {
      const token = await issuer.sign({ scope: 'orders:read', nbf: NOW / 1000 - 90 })
      const { code, stdout, stderr } = await run(['inspect', token])
      expect(code).toBe(0)
      expect(stderr).toBe('')
      const lines = stdout.split('\n')
      expect(lines[0]).toMatch(/^UNVERIFIED — decoded only/)
      expect(lines[1]).toBe(`JWS, 3 segments, ${token.length} bytes`)
      expect(lines).toContain('header')
      expect(lines).toContain(`  alg  "RS256"`)
      expect(lines).toContain(`  kid  "${kidOf(token)}"`)
      expect(lines).toContain('claims')
      expect(lines).toContain(`  iss    "${issuer.issuer}"`)
      expect(lines).toContain(`  sub    "user-123"`)
      expect(lines).toContain(`  scope  "orders:read"`)
      expect(lines).toContain('  exp    2026-11-25T13:00:00Z (in 1 h)')
      expect(lines).toContain('  iat    2026-11-25T12:00:00Z (now)')
      expect(lines).toContain('  nbf    2026-11-25T11:58:30Z (1 min 30 s ago)')
    })

    it('reads the token from stdin when given as -', async () => {
      const token = await issuer.sign({ sub: 'from-stdin' })
      const { code, stdout } = await run(['inspect', '-'], { stdin: `  ${token}\n` })
      expect(code).toBe(0)
      expect(stdout).toContain('  sub  "from-stdin"')
    })

    it('shows only the protected header of a JWE', async () => {
      const { publicKey } = await generateKeyPair('RSA-OAEP-256')
      const token = await issuer.signEncrypted({ sub: 'secret-sub' }, { key: await exportJWK(publicKey) })
      const { code, stdout } = await run(['inspect', token])
      expect(code).toBe(0)
      expect(stdout.split('\n').slice(1)).toEqual([
        `JWE, 5 segments, ${token.length} bytes`,
        'protected header',
        '  alg  "RSA-OAEP-256"',
        '  enc  "A256GCM"',
        '  cty  "JWT"',
        'claims: encrypted (only the holder of the decryption key can read them)',
        '',
      ])
      expect(stdout).not.toContain('secret-sub')
    })

    it('answers garbage with one line and exit code 1', async () => {
      expect(await run(['inspect', 'not-a-token'])).toEqual({
        code: 1,
        stdout: '',
        stderr: 'malformed token: not 3 segments (JWS) or 5 (JWE)\n',
      })
      expect((await run(['inspect', 'eyJhbGciOiJSUzI1NiJ9.e30=.c2ln'])).stderr).toBe(
        'malformed token: a segment is not canonical base64url (padding, whitespace or a stray character)\n',
      )
    })
  })

  describe('verify', () => {
    it('passes every step of a good token but revocation, which it reports as not run, and exits 0', async () => {
      const { code, stdout, stderr } = await run(['verify', await issuer.sign(), ...base])
      expect(code).toBe(0)
      expect(stderr).toBe('')
      const lines = stdout.trimEnd().split('\n')
      expect(lines.at(-1)).toBe('token accepted by every check that ran; not checked: revocation')
      const steps = lines.filter((l) => /^(PASS|FAIL|SKIP) /.test(l))
      expect(steps.map((l) => l.split(/ +/)[1])).toEqual([
        'format',
        'algorithm',
        'header',
        'issuer',
        'key',
        'signature',
        'audience',
        'expiry',
        'not-before',
        'issued-at',
        'claims',
        'binding',
        'revocation',
      ])
      expect(steps.slice(0, -1).every((l) => l.startsWith('PASS '))).toBe(true)
      expect(steps.at(-1)).toBe('SKIP revocation  skipped: no isRevoked or revocation store is configured')
      expect(steps).toContain('PASS expiry      expires in 1 h (2026-11-25T13:00:00.000Z)')
    })

    it('expired: says how long ago', async () => {
      const { code, stdout } = await run(['verify', await issuer.sign({}, { expiresIn: -7200 }), ...base])
      expect(code).toBe(1)
      expect(failure(stdout)).toEqual({ check: 'expiry', detail: 'expired 2 h ago (exp 2026-11-25T10:00:00.000Z)' })
      expect(stdout).toContain('SKIP binding     not checked')
      expect(stdout.trimEnd().split('\n').at(-1)).toBe('token refused: ERR_JWT_EXPIRED')
    })

    it('wrong audience: expected vs got', async () => {
      const { code, stdout } = await run(['verify', await issuer.sign({ aud: 'https://other.example' }), ...base])
      expect(code).toBe(1)
      expect(failure(stdout)).toEqual({
        check: 'audience',
        detail: 'audience "https://other.example" is not accepted (expected "https://api.example.test")',
      })
    })

    it('unknown kid: lists the kids the key set has', async () => {
      const { code, stdout } = await run(['verify', await issuer.sign({}, { kid: 'retired-key' }), ...base])
      expect(code).toBe(1)
      const kids = issuer
        .jwks()
        .keys.map((k) => JSON.stringify(k.kid))
        .join(', ')
      expect(kids.split(', ')).toHaveLength(3)
      expect(failure(stdout)).toEqual({
        check: 'key',
        detail: `no key for kid "retired-key" and alg "RS256" (the key set has kids: ${kids})`,
      })
    })

    it('signature invalid: a flipped signature byte', async () => {
      const token = await issuer.sign()
      const { code, stdout } = await run(['verify', flipSignature(token), ...base])
      expect(code).toBe(1)
      expect(failure(stdout)).toEqual({
        check: 'signature',
        detail: `the signature does not verify with the key for kid "${kidOf(token)}": the token was altered or signed by another key`,
      })
    })

    it('wrong typ: --typ at+jwt with a plain JWT', async () => {
      const { code, stdout } = await run(['verify', await issuer.sign({}, { typ: 'JWT' }), ...base, '--typ', 'at+jwt'])
      expect(code).toBe(1)
      expect(failure(stdout)).toEqual({ check: 'type', detail: 'typ "JWT" where "at+jwt" is required' })
    })

    it('wrong typ: a token with no typ header is said to have none (not "typ undefined")', async () => {
      const { stdout } = await run(['verify', await issuer.sign(), ...base, '--typ', 'at+jwt'])
      expect(failure(stdout).detail).not.toContain('undefined')
    })

    it('algorithm not allowed: --algorithms ES256 with an RS256 token', async () => {
      const { code, stdout } = await run(['verify', await issuer.sign({}, { alg: 'RS256' }), ...base, '--algorithms', 'ES256'])
      expect(code).toBe(1)
      expect(failure(stdout)).toEqual({ check: 'algorithm', detail: 'algorithm "RS256" is not allowed (allowed: ES256)' })
    })

    it('malformed token: the reason is in words (not "(segment_count)")', async () => {
      const { code, stdout } = await run(['verify', 'not-a-token', ...base])
      expect(code).toBe(1)
      expect(failure(stdout).detail).not.toMatch(/segment_count/)
    })

    it('verifies an HMAC token with a secret read from --secret-env, and never prints it', async () => {
      const token = await issuer.sign({}, { alg: 'HS256' })
      const ok = await run(['verify', token, ...base, '--secret-env', 'API_SECRET'], { env: { API_SECRET: SECRET } })
      expect(ok.code).toBe(0)
      const refused = await run(['verify', flipSignature(token), ...base, '--secret-env', 'API_SECRET', '--json'], {
        env: { API_SECRET: SECRET },
      })
      expect(refused.code).toBe(1)
      for (const r of [ok, refused]) expect(r.stdout + r.stderr).not.toContain(SECRET)
    })

    it('uses ✔ ✘ · on a terminal, PASS/FAIL/SKIP when NO_COLOR is set', async () => {
      const token = await issuer.sign({}, { expiresIn: -60 })
      const tty = await run(['verify', token, ...base], { tty: true })
      expect(tty.stdout).toContain('\x1b[32m✔\x1b[0m format')
      expect(tty.stdout).toContain('\x1b[31m✘\x1b[0m expiry')
      expect(tty.stdout).toContain('\x1b[2m·\x1b[0m binding')
      const plain = await run(['verify', token, ...base], { tty: true, env: { NO_COLOR: '1' } })
      expect(plain.stdout).toMatch(/^PASS format/)
      expect(plain.stdout).not.toContain('\x1b[')
    })

    it('--json prints the explanation as JSON', async () => {
      const { code, stdout } = await run(['verify', await issuer.sign({}, { expiresIn: -60 }), ...base, '--json'])
      expect(code).toBe(1)
      const explanation = JSON.parse(stdout)
      expect(explanation).toMatchObject({ ok: false, code: 'ERR_JWT_EXPIRED', payload: { sub: 'user-123' } })
      expect(explanation.steps.find((s: { check: string }) => s.check === 'expiry')).toEqual({
        check: 'expiry',
        ok: false,
        detail: 'expired 1 min ago (exp 2026-11-25T11:59:00.000Z)',
      })
      const accepted = await run(['verify', await issuer.sign(), ...base, '--json'])
      expect(accepted.code).toBe(0)
      expect(JSON.parse(accepted.stdout)).toMatchObject({ ok: true, header: { alg: 'RS256' } })
    })
  })

  describe('usage', () => {
    it.each([
      [['verify', 'a.b.c', '--issuer', 'https://idp.example'], 'jwtguard: verify needs --audience (or JWT_AUDIENCE with --env)'],
      [['verify', 'a.b.c', '--audience', 'api'], 'jwtguard: verify needs --issuer (or JWT_ISSUER with --env)'],
      [['verify', '--issuer', 'https://idp.example', '--audience', 'api'], 'jwtguard: give exactly one token (or - to read it from stdin)'],
      [
        ['verify', 'a.b.c', '--issuer', 'https://idp.example', '--audience', 'api', '--clock-tolerance', 'soon'],
        `jwtguard: --clock-tolerance must be a number of seconds or a duration like '30s', '2m', '1h'`,
      ],
      [
        ['verify', 'a.b.c', '--issuer', 'https://idp.example', '--audience', 'api', '--secret=hunter2hunter2'],
        'jwtguard: --secret is not accepted: put the secret in an environment variable and give --secret-env NAME',
      ],
      [
        ['verify', 'a.b.c', '--issuer', 'https://idp.example', '--audience', 'api', '--secret-env', 'NOT_SET'],
        'jwtguard: --secret-env: the environment variable NOT_SET is not set',
      ],
      [['decode', 'a.b.c'], 'jwtguard: unknown command "decode"'],
    ])('%j exits 2 with one message and no stack', async (argv, message) => {
      const { code, stdout, stderr } = await run(argv)
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toBe(`${message}\nRun "jwtguard --help" for usage.\n`)
    })

    it('prints usage with no arguments or --help, and the version with --version', async () => {
      const bare = await run([])
      expect(bare.code).toBe(0)
      expect(bare.stdout).toMatch(/^Usage:\n {2}jwtguard inspect <token>/)
      expect((await run(['verify', '--help'])).stdout).toBe(bare.stdout)
      expect(await run(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' })
    })
  })
})

describe('jwtguard as a script', () => {
  beforeAll(async () => {
    // `npm test` builds before vitest; a lone run of this file builds only when the CLI was never built.
    if (!existsSync(join(repo, 'dist/src/cli.js'))) await execute('npm', ['run', 'build'], { cwd: repo, timeout: 120_000 })
  }, 180_000)

  it('runs through tsx with the exit code of the verdict', async () => {
    const { stdout } = await execute(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'verify', await issuer.sign(), ...base], {
      cwd: repo,
      timeout: 30_000,
    })
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('token accepted by every check that ran; not checked: revocation')
    const refused = execute(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'inspect', 'garbage'], { cwd: repo, timeout: 30_000 })
    await expect(refused).rejects.toMatchObject({ code: 1, stdout: '', stderr: 'malformed token: not 3 segments (JWS) or 5 (JWE)\n' })
  })

  it('is built to dist/src/cli.js (the package bin) with its shebang, and finds package.json from there', async () => {
    expect(pkg.bin).toEqual({ jwtguard: './dist/src/cli.js' })
    const built = join(repo, pkg.bin.jwtguard)
    expect(readFileSync(built, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node')
    const { stdout } = await execute(process.execPath, [built, '--version'], { timeout: 30_000 })
    expect(stdout).toBe(`${pkg.version}\n`)
  })
})
