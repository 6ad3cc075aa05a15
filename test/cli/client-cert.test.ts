// Issue 19 item 6: `jwtguard verify --client-cert FILE` checks a certificate-bound token (RFC 8705 §3, cnf x5t#S256)
// through the guard's own mtls stage, as if the certificate came on the TLS connection: the binding step passes, or
// fails naming both thumbprints. Without the flag the token is refused as an API without mtls refuses it, and the
// command names the fix. Hostile files (missing, a directory, not a certificate, huge, a private key, a CSR, the flag
// twice) are one-line usage errors (exit 2) that quote nothing of the file. Certificates are made by openssl in the
// test; the token comes from the project's test issuer (real discovery and JWKS on loopback); the CLI runs as a
// child process.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { derOf, makeCertificate, thumbprintOf, type TestCertificate } from '../helpers/certs.js'

const execute = promisify(execFile)
const repo = fileURLToPath(new URL('../../', import.meta.url))

let issuer: TestIssuer
let base: string[]
let dir: string
let clientA: TestCertificate
let clientB: TestCertificate
let thumbprintA: string
let thumbprintB: string
let boundToA: string

const file = (name: string): string => join(dir, name)
/** The body of a PEM block: what must never be echoed. */
const pemBody = (pem: string): string => pem.split('\n').slice(1, -2).join('')

beforeAll(async () => {
  issuer = await createTestIssuer()
  base = ['--issuer', issuer.issuer, '--audience', issuer.audience as string]
  ;[clientA, clientB] = await Promise.all([
    makeCertificate({ key: 'ec-p256', commonName: 'client-a' }),
    makeCertificate({ key: 'rsa', commonName: 'client-b' }),
  ])
  thumbprintA = thumbprintOf(clientA)
  thumbprintB = thumbprintOf(clientB)
  boundToA = await issuer.sign({ cnf: { 'x5t#S256': thumbprintA }, scope: 'orders:read' })
  dir = mkdtempSync(join(tmpdir(), 'jwtguard-cli-cert-'))
  writeFileSync(file('a.pem'), clientA.certPem)
  writeFileSync(file('a.der'), derOf(clientA))
  writeFileSync(file('b.pem'), clientB.certPem)
  // A chain file, leaf first, and the usual "cert and key in one file": the first certificate is the client's.
  writeFileSync(file('chain.pem'), clientA.certPem + clientB.certPem)
  writeFileSync(file('key.pem'), clientA.keyPem)
  writeFileSync(file('notes.txt'), 'my-password-is-hunter2\n')
  writeFileSync(file('huge.pem'), `${clientA.certPem}${'#'.repeat(70 * 1024)}\n`)
  writeFileSync(file('broken.pem'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n')
  mkdirSync(file('a-directory'))
  await execute('openssl', ['req', '-new', '-key', file('key.pem'), '-subj', '/CN=client-a', '-out', file('req.csr')], { timeout: 30_000 })
}, 60_000)
afterAll(async () => {
  await issuer?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** The command as a user runs it: a child process, its exit code and both streams. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await execute(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'verify', ...args], {
      cwd: repo,
      timeout: 60_000,
      env: { PATH: process.env.PATH, NO_COLOR: '1', ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const { code, stdout, stderr } = err as { code: unknown; stdout: string; stderr: string }
    if (typeof code !== 'number') throw err
    return { code, stdout, stderr }
  }
}

const stepLine = (stdout: string, check: string): string | undefined => stdout.split('\n').find((l) => l.slice(5).startsWith(`${check} `))
const lastLine = (stdout: string): string => stdout.trimEnd().split('\n').at(-1)!

/** A usage error: exit 2, nothing on stdout, one message line and the pointer to --help, no stack. */
async function usageError(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await cli([boundToA, ...base, ...args])
  expect(code).toBe(2)
  expect(stdout).toBe('')
  const lines = stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(2)
  expect(lines[1]).toBe('Run "jwtguard --help" for usage.')
  expect(stderr).not.toMatch(/\n\s+at |Error:/)
  return lines[0]!
}

describe('jwtguard verify --client-cert: the binding, checked by the guard', () => {
  it('the certificate the token is bound to (PEM): the binding passes, naming the thumbprint', async () => {
    const { code, stdout, stderr } = await cli([boundToA, ...base, '--client-cert', file('a.pem')])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stepLine(stdout, 'binding')).toMatch(
      new RegExp(`^PASS binding +the client certificate's thumbprint is the token's cnf\\["x5t#S256"\\] "${thumbprintA}"$`),
    )
    // The request the command built is not a check of the token.
    expect(stepLine(stdout, 'request')).toBeUndefined()
    expect(stdout).toContain('scopes: "orders:read"')
    expect(lastLine(stdout)).toBe('token accepted by every check that ran; not checked: revocation')
  }, 120_000)

  it('the same certificate as DER, or first in a chain file, passes too', async () => {
    for (const name of ['a.der', 'chain.pem']) {
      const { code, stdout } = await cli([boundToA, ...base, '--client-cert', file(name)])
      expect(code, name).toBe(0)
      expect(stepLine(stdout, 'binding'), name).toMatch(/^PASS binding /)
    }
  }, 120_000)

  it('another certificate: FAIL binding with both thumbprints, ERR_MTLS_BINDING_INVALID, exit 1 (text and --json)', async () => {
    const { code, stdout } = await cli([boundToA, ...base, '--client-cert', file('b.pem')])
    expect(code).toBe(1)
    expect(stepLine(stdout, 'binding')).toBe(
      `FAIL binding     bound to a client certificate (cnf["x5t#S256"] "${thumbprintA}"), but the client certificate presented has thumbprint "${thumbprintB}"`,
    )
    expect(stepLine(stdout, 'revocation')).toBe('SKIP revocation  not checked')
    expect(stdout).not.toContain('scopes:')
    expect(lastLine(stdout)).toBe('token refused: ERR_MTLS_BINDING_INVALID')
    const json = await cli([boundToA, ...base, '--client-cert', file('b.pem'), '--json'])
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout)
    expect(report.code).toBe('ERR_MTLS_BINDING_INVALID')
    expect(report.steps.find((s: { check: string }) => s.check === 'binding')).toMatchObject({ ok: false })
    expect(report.steps.find((s: { check: string }) => s.check === 'binding').detail).toContain(thumbprintB)
  }, 120_000)

  it('without --client-cert: refused as an API without mtls refuses it, and the command names the fix', async () => {
    const { code, stdout } = await cli([boundToA, ...base])
    expect(code).toBe(1)
    expect(stepLine(stdout, 'binding')).toBe(
      'FAIL binding     bound to a client certificate (cnf["x5t#S256"]): this guard checks those only with the mtls option, and refuses them as bearer tokens without it; give --client-cert FILE, the certificate it is bound to, to check the binding',
    )
    expect(lastLine(stdout)).toBe('token refused: ERR_JWT_CNF_UNSUPPORTED')
  }, 120_000)

  it('a token bound to nothing: the certificate plays no part, and a note says so; a DPoP-bound one keeps its SKIP', async () => {
    const plain = await cli([await issuer.sign(), ...base, '--client-cert', file('a.pem')])
    expect(plain.code).toBe(0)
    expect(stepLine(plain.stdout, 'binding')).toBe('PASS binding     ok')
    expect(plain.stderr).toBe(
      'jwtguard: note: the token is not bound to a client certificate (no cnf["x5t#S256"]): --client-cert played no part\n',
    )
    const { publicKey } = await generateKeyPair('ES256')
    const jkt = await calculateJwkThumbprint(await exportJWK(publicKey))
    const dpop = await cli([await issuer.sign({ cnf: { jkt } }), ...base, '--client-cert', file('a.pem')])
    expect(dpop.code).toBe(0)
    expect(stepLine(dpop.stdout, 'binding')).toBe(
      `SKIP binding     skipped: bound to a DPoP key (cnf.jkt "${jkt}") and no DPoP proof was given`,
    )
  }, 120_000)

  it("the app's JWT_TOKEN_FROM (--env) cannot hide the token from the request the command builds", async () => {
    // The cookie source alone would find no token in the command's request: refused as missing, never checked.
    const { code, stdout } = await cli([boundToA, '--env', '--client-cert', file('a.pem')], {
      JWT_ISSUER: issuer.issuer,
      JWT_AUDIENCE: issuer.audience as string,
      JWT_TOKEN_FROM: 'cookie:session',
    })
    expect(code).toBe(0)
    expect(stepLine(stdout, 'binding')).toMatch(/^PASS binding /)
  }, 120_000)

  it('an empty token is refused, never accepted as a request without one', async () => {
    const { code, stdout } = await cli(['', ...base, '--client-cert', file('a.pem')])
    expect(code).toBe(1)
    expect(lastLine(stdout)).toMatch(/^token refused: ERR_/)
  }, 120_000)

  it('a cnf["x5t#S256"] holding terminal controls is refused without printing them', async () => {
    const hostile = await issuer.sign({ cnf: { 'x5t#S256': '\u001b]0;pwned\u0007\u001b[2J' } })
    const { code, stdout } = await cli([hostile, ...base, '--client-cert', file('a.pem')])
    expect(code).toBe(1)
    expect(stdout).not.toContain('\u001b')
    expect(stdout).not.toContain('\u0007')
    expect(stepLine(stdout, 'binding')).toMatch(/^FAIL binding /)
    expect(lastLine(stdout)).toBe('token refused: ERR_JWT_CNF_UNSUPPORTED')
  }, 120_000)
})

describe('jwtguard verify --client-cert: hostile files are one-line usage errors', () => {
  it('a missing file (its name escaped), a directory', async () => {
    expect(await usageError(['--client-cert', file('nope.pem')])).toBe(
      `jwtguard: --client-cert ${file('nope.pem')}: cannot open it (ENOENT)`,
    )
    expect(await usageError(['--client-cert', file('\u001b[2Jnope.pem')])).toBe(
      `jwtguard: --client-cert ${file('\\u001b[2Jnope.pem')}: cannot open it (ENOENT)`,
    )
    expect(await usageError(['--client-cert', file('a-directory')])).toBe(
      `jwtguard: --client-cert ${file('a-directory')}: cannot read it (EISDIR)`,
    )
  }, 120_000)

  it('a text file, a broken PEM certificate: "holds no certificate", nothing of the file quoted', async () => {
    const text = await usageError(['--client-cert', file('notes.txt')])
    expect(text).toBe(
      `jwtguard: --client-cert ${file('notes.txt')}: holds no certificate: give the X.509 certificate the client presents (PEM or DER)`,
    )
    const broken = await usageError(['--client-cert', file('broken.pem')])
    expect(broken).toContain('holds no certificate')
    expect(broken).not.toContain('bm90IGEgY2VydGlmaWNhdGU')
  }, 120_000)

  it('a huge file, or an endless one, is refused after 64 KiB, unparsed', async () => {
    expect(await usageError(['--client-cert', file('huge.pem')])).toBe(
      `jwtguard: --client-cert ${file('huge.pem')}: over 64 KiB, that is no certificate`,
    )
    expect(await usageError(['--client-cert', '/dev/zero'])).toBe('jwtguard: --client-cert /dev/zero: over 64 KiB, that is no certificate')
  }, 120_000)

  it('a private key or a CSR given by mistake: named, never echoed', async () => {
    const key = await usageError(['--client-cert', file('key.pem')])
    expect(key).toBe(
      `jwtguard: --client-cert ${file('key.pem')}: holds a private key, not a certificate (nothing of it is shown): give the X.509 certificate the client presents (PEM or DER)`,
    )
    const csr = await usageError(['--client-cert', file('req.csr')])
    expect(csr).toContain('holds a certificate request (CSR), not a certificate')
    for (const message of [key, csr]) expect(message).not.toContain(pemBody(clientA.keyPem).slice(0, 32))
  }, 120_000)

  it('--client-cert given twice, even the same file', async () => {
    const message = 'jwtguard: --client-cert is given more than once: give the one certificate the token is bound to'
    expect(await usageError(['--client-cert', file('a.pem'), '--client-cert', file('b.pem')])).toBe(message)
    expect(await usageError(['--client-cert', file('a.pem'), `--client-cert=${file('a.pem')}`])).toBe(message)
  }, 120_000)
})
