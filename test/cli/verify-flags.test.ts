// Issue 18 item 4: `jwtguard verify` speaks the guard's language. Every flag that shapes the guard (--preset,
// --preset-client-id, --scope-claim, --roles-claim, --required-claims, --decryption-key-file, --env), what it prints
// (granted scopes and roles, the URLs it fetched, a stripped "Bearer " prefix) and hostile inputs: key files that are
// not keys or are huge, a key set serving private keys, an unknown preset, a JWT_* typo. Against a real test issuer
// (discovery and JWKS over loopback); `main()` in-process, and the --env typo also as a child process.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { makeCertificate } from '../helpers/certs.js'

const execute = promisify(execFile)
const repo = fileURLToPath(new URL('../../', import.meta.url))

let issuer: TestIssuer
let base: string[]
let dir: string
let encryptionJwk: JWK
let privateJwk: JWK

beforeAll(async () => {
  issuer = await createTestIssuer()
  base = ['--issuer', issuer.issuer, '--audience', issuer.audience as string]
  dir = mkdtempSync(join(tmpdir(), 'jwtguard-cli-'))
  const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256', { extractable: true })
  encryptionJwk = { ...(await exportJWK(publicKey)), kid: 'enc-1' }
  privateJwk = { ...(await exportJWK(privateKey)), kid: 'enc-1' }
  writeFileSync(join(dir, 'key.pem'), await exportPKCS8(privateKey))
  writeFileSync(join(dir, 'public.pem'), await exportSPKI(publicKey))
  writeFileSync(join(dir, 'key.jwk'), JSON.stringify(privateJwk))
  writeFileSync(join(dir, 'keys.jwks'), JSON.stringify({ keys: [privateJwk] }))
  writeFileSync(join(dir, 'public.jwks'), JSON.stringify({ keys: [encryptionJwk] }))
  writeFileSync(join(dir, 'cert.pem'), (await makeCertificate()).certPem)
  writeFileSync(join(dir, 'sig.jwk'), JSON.stringify({ ...privateJwk, use: 'sig' }))
  writeFileSync(join(dir, 'notes.txt'), 'my-password-is-hunter2\n')
  writeFileSync(join(dir, 'list.json'), '["not", "a", "key"]')
  writeFileSync(join(dir, 'huge.pem'), `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(300 * 1024)}\n-----END PRIVATE KEY-----\n`)
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

async function run(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  const out: Run = { code: -1, stdout: '', stderr: '' }
  out.code = await main(argv, {
    stdout: { write: (text: string) => (out.stdout += text), isTTY: false },
    stderr: { write: (text: string) => (out.stderr += text) },
    stdin: Readable.from(['']),
    env,
  })
  return out
}

const lastLine = (stdout: string): string => stdout.trimEnd().split('\n').at(-1)!
const line = (stdout: string, start: string): string | undefined => stdout.split('\n').find((l) => l.startsWith(start))

/** A usage error: exit 2, nothing on stdout, the one message on stderr. */
async function usageError(argv: string[], env: Record<string, string> = {}): Promise<string> {
  const { code, stdout, stderr } = await run(argv, env)
  expect(code).toBe(2)
  expect(stdout).toBe('')
  expect(stderr.endsWith('\nRun "jwtguard --help" for usage.\n')).toBe(true)
  return stderr.split('\n')[0]!
}

describe('jwtguard verify: what a token grants', () => {
  it('prints the granted scopes and roles, one line each, quoted', async () => {
    const token = await issuer.sign({ scope: 'orders:read orders:write', roles: ['admin', 'Org Admin'] })
    const { code, stdout } = await run(['verify', token, ...base])
    expect(code).toBe(0)
    expect(line(stdout, 'scopes: ')).toBe('scopes: "orders:read" "orders:write"')
    expect(line(stdout, 'roles: ')).toBe('roles: "admin" "Org Admin"')
  })

  it('says (none) when nothing is granted, and prints no grants for a refused token', async () => {
    const none = await run(['verify', await issuer.sign(), ...base])
    expect(line(none.stdout, 'scopes: ')).toBe('scopes: (none)')
    expect(line(none.stdout, 'roles: ')).toBe('roles: (none)')
    const refused = await run(['verify', await issuer.sign({ scope: 'orders:read' }, { expiresIn: -60 }), ...base])
    expect(refused.code).toBe(1)
    expect(line(refused.stdout, 'scopes: ')).toBeUndefined()
    expect(line(refused.stdout, 'roles: ')).toBeUndefined()
  })

  it('--preset keycloak --preset-client-id reads realm and client roles', async () => {
    const claims = {
      scope: 'profile orders:read',
      realm_access: { roles: ['realm-user'] },
      resource_access: { 'orders-api': { roles: ['orders-admin'] }, other: { roles: ['not-mine'] } },
    }
    const token = await issuer.sign(claims)
    const realmOnly = await run(['verify', token, ...base, '--preset', 'keycloak'])
    expect(line(realmOnly.stdout, 'roles: ')).toBe('roles: "realm-user"')
    const withClient = await run(['verify', token, ...base, '--preset', 'keycloak', '--preset-client-id', 'orders-api'])
    expect(withClient.code).toBe(0)
    expect(line(withClient.stdout, 'roles: ')).toBe('roles: "realm-user" "orders-admin"')
    expect(line(withClient.stdout, 'scopes: ')).toBe('scopes: "profile" "orders:read"')
  })

  it('--preset cognito checks client_id and token_use, as the app would', async () => {
    const access = await issuer.sign({ aud: undefined, client_id: 'app-client', token_use: 'access', 'cognito:groups': ['ops'] })
    const args = ['--issuer', issuer.issuer, '--audience', 'app-client', '--preset', 'cognito']
    const ok = await run(['verify', access, ...args])
    expect(ok.code).toBe(0)
    expect(line(ok.stdout, 'roles: ')).toBe('roles: "ops"')
    const id = await run(['verify', await issuer.sign({ aud: undefined, client_id: 'app-client', token_use: 'id' }), ...args])
    expect(id.code).toBe(1)
  })

  it('--scope-claim and --roles-claim take comma-separated claim paths', async () => {
    const token = await issuer.sign({ perms: ['a:read'], scp: 'b:write', app: { roles: ['editor'] }, groups: ['staff'] })
    const { code, stdout } = await run(['verify', token, ...base, '--scope-claim', 'perms, scp', '--roles-claim', 'app.roles,groups'])
    expect(code).toBe(0)
    expect(line(stdout, 'scopes: ')).toBe('scopes: "a:read" "b:write"')
    expect(line(stdout, 'roles: ')).toBe('roles: "editor" "staff"')
  })

  it('--required-claims refuses a token missing one, at the claims step', async () => {
    const args = [...base, '--required-claims', 'tenant,sub']
    expect((await run(['verify', await issuer.sign({ tenant: 't-1' }), ...args])).code).toBe(0)
    const { code, stdout } = await run(['verify', await issuer.sign(), ...args])
    expect(code).toBe(1)
    expect(stdout).toMatch(/^FAIL claims +.*tenant/m)
    expect(lastLine(stdout)).toBe('token refused: ERR_JWT_CLAIM_MISSING')
  })

  it('escapes a role that carries terminal controls', async () => {
    const token = await issuer.sign({ roles: ['x\u001b[2J\u202e', 'y\nPASS forged'] })
    const { stdout } = await run(['verify', token, ...base])
    expect(line(stdout, 'roles: ')).toBe('roles: "x\\u001b[2J\\u202e" "y\\nPASS forged"')
    expect(stdout).not.toContain('\u001b')
    expect(stdout).not.toMatch(/^PASS forged/m)
  })
})

describe('jwtguard verify: what it fetched', () => {
  it('names the discovery document and the key set it fetched', async () => {
    const { stdout } = await run(['verify', await issuer.sign(), ...base])
    expect(line(stdout, 'fetched discovery')).toBe(`fetched discovery of "${issuer.issuer}": jwks_uri "${issuer.jwksUri}"`)
    expect(line(stdout, 'fetched key set')).toBe(`fetched key set "${issuer.jwksUri}": 3 keys`)
  })

  it('with --jwks-uri fetches no discovery document', async () => {
    const { stdout } = await run(['verify', await issuer.sign(), ...base, '--jwks-uri', issuer.jwksUri])
    expect(line(stdout, 'fetched discovery')).toBeUndefined()
    expect(line(stdout, 'fetched key set')).toBe(`fetched key set "${issuer.jwksUri}": 3 keys`)
  })

  it('--json stays JSON and gains scopes, roles and fetched; a step not run has ok: null', async () => {
    const accepted = await run(['verify', await issuer.sign({ scope: 'a b', roles: ['r'] }), ...base, '--json'])
    expect(accepted.code).toBe(0)
    const report = JSON.parse(accepted.stdout)
    expect(report).toMatchObject({ ok: true, scopes: ['a', 'b'], roles: ['r'] })
    expect(report.fetched).toEqual([
      { type: 'discovery', issuer: issuer.issuer, jwksUri: issuer.jwksUri },
      { type: 'jwks', url: issuer.jwksUri, keyCount: 3 },
    ])
    expect(report.steps.at(-1)).toEqual({
      check: 'revocation',
      ok: null,
      detail: 'skipped: no isRevoked or revocation store is configured',
    })
    const refused = JSON.parse((await run(['verify', await issuer.sign({}, { expiresIn: -60 }), ...base, '--json'])).stdout)
    expect(refused).toMatchObject({ ok: false, scopes: null, roles: null })
    expect(refused.steps.at(-1)).toEqual({ check: 'revocation', ok: null, detail: 'not checked' })
  })

  it('a key set that serves private keys: keys refused, no key material printed', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true })
    const leaked = { ...(await exportJWK(privateKey)), kid: 'leaked', alg: 'RS256', use: 'sig' }
    issuer.setJwksHandler((res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys: [leaked] }))
    })
    try {
      const { code, stdout, stderr } = await run(['verify', await issuer.sign({}, { kid: 'leaked' }), ...base])
      expect(code).not.toBe(0)
      expect(stdout).toMatch(/^(FAIL|SKIP) key /m)
      expect(stdout + stderr).not.toContain(leaked.d!)
      expect(stdout + stderr).not.toContain(leaked.p!)
    } finally {
      issuer.setJwksHandler(undefined)
    }
  })
})

describe('jwtguard verify --decryption-key-file', () => {
  const encrypted = (claims: Record<string, unknown> = {}, kid = true) =>
    issuer.signEncrypted(claims, { key: kid ? encryptionJwk : { ...encryptionJwk, kid: undefined } })

  it.each(['key.pem', 'key.jwk', 'keys.jwks'])('decrypts with %s and explains the inner token with its claims', async (file) => {
    const token = await encrypted({ scope: 'secret:read' }, file !== 'key.pem')
    const { code, stdout, stderr } = await run(['verify', token, ...base, '--decryption-key-file', join(dir, file)])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(line(stdout, 'PASS decryption')).toBeDefined()
    expect(line(stdout, 'PASS issuer')).toBe(`PASS issuer      iss "${issuer.issuer}"`)
    expect(line(stdout, 'scopes: ')).toBe('scopes: "secret:read"')
    // The private key is the user's own; it is still never echoed.
    expect(stdout).not.toContain(privateJwk.d!)
  })

  it('a refused JWE is explained from its decrypted inner token, not its outer header', async () => {
    const token = await issuer.signEncrypted({ aud: 'https://other.example' }, { key: encryptionJwk }, { kid: 'inner-kid-is-unknown' })
    const wrongAud = await issuer.signEncrypted({ aud: 'https://other.example' }, { key: encryptionJwk })
    const args = [...base, '--decryption-key-file', join(dir, 'keys.jwks')]
    const aud = await run(['verify', wrongAud, ...args])
    expect(aud.code).toBe(1)
    expect(line(aud.stdout, 'PASS algorithm')).toBe('PASS algorithm   alg RS256')
    expect(line(aud.stdout, 'PASS issuer')).toBe(`PASS issuer      iss "${issuer.issuer}"`)
    expect(line(aud.stdout, 'FAIL audience')).toBe(
      'FAIL audience    audience "https://other.example" is not accepted (expected "https://api.example.test")',
    )
    const kid = await run(['verify', token, ...args])
    expect(line(kid.stdout, 'FAIL key')).toMatch(/^FAIL key +no key for kid "inner-kid-is-unknown" and alg "RS256"/)
  })

  it('without the flag a JWE is refused at the decryption step', async () => {
    const { code, stdout } = await run(['verify', await encrypted(), ...base])
    expect(code).toBe(1)
    expect(line(stdout, 'FAIL decryption')).toBe('FAIL decryption  the token is a JWE and the guard has no decryption keys')
  })

  it.each([
    ['public.pem', 'holds a public key: decryption needs the private key'],
    ['public.jwks', 'holds a public key: decryption needs the private key'],
    ['cert.pem', 'holds a public key: decryption needs the private key'],
    ['notes.txt', 'holds no PEM key, JWK or JWKS'],
    ['list.json', 'holds no PEM key, JWK or JWKS'],
    ['huge.pem', 'over 256 KiB, that is no key file'],
    ['missing.pem', 'cannot open it (ENOENT)'],
    ['.', 'cannot read it (EISDIR)'],
    ['sig.jwk', 'decryption.keys'],
  ])('%s: a usage error that says why, quoting nothing of the file', async (file, why) => {
    const message = await usageError(['verify', 'a.b.c', ...base, '--decryption-key-file', join(dir, file)])
    expect(message.startsWith(`jwtguard: --decryption-key-file ${join(dir, file)}: `)).toBe(true)
    expect(message).toContain(why)
    expect(message).not.toContain('hunter2')
    expect(message).not.toContain('AAAA')
    expect(message.length).toBeLessThan(300)
  })
})

describe('jwtguard verify: presets and --env', () => {
  it('an unknown preset names the closest one', async () => {
    const message = await usageError(['verify', 'a.b.c', ...base, '--preset', 'keycloack'])
    expect(message).toBe('jwtguard: --preset must be one of auth0, okta, entra, keycloak, cognito, rfc9068: did you mean "keycloak"?')
  })

  it('--preset-client-id without --preset keycloak is refused', async () => {
    expect(await usageError(['verify', 'a.b.c', ...base, '--preset', 'okta', '--preset-client-id', 'x'])).toBe(
      'jwtguard: --preset-client-id applies to JWT_PRESET=keycloak only, not okta',
    )
  })

  it('--env reads the JWT_* variables the app reads', async () => {
    const token = await issuer.sign({ realm_access: { roles: ['from-env'] } })
    const env = { JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: issuer.audience as string, JWT_PRESET: 'keycloak' }
    const { code, stdout, stderr } = await run(['verify', token, '--env'], env)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(line(stdout, 'roles: ')).toBe('roles: "from-env"')
  })

  it('without --env the environment is not read', async () => {
    const env = { JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: issuer.audience as string }
    expect(await usageError(['verify', 'a.b.c'], env)).toBe('jwtguard: verify needs --issuer (or JWT_ISSUER with --env)')
  })

  it('a flag wins over its variable', async () => {
    const env = { JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: 'https://wrong.example', JWT_ROLES_CLAIM: 'groups' }
    const token = await issuer.sign({ groups: ['g'], app_roles: ['a'] })
    const { code, stdout } = await run(
      ['verify', token, '--env', '--audience', issuer.audience as string, '--roles-claim', 'app_roles'],
      env,
    )
    expect(code).toBe(0)
    expect(line(stdout, 'roles: ')).toBe('roles: "a"')
  })

  it('a bad JWT_* value is named as the variable; the same value from a flag names the flag', async () => {
    const env = { JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: 'api', JWT_CLOCK_TOLERANCE: 'soon' }
    expect(await usageError(['verify', 'a.b.c', '--env'], env)).toMatch(/^jwtguard: environment variable JWT_CLOCK_TOLERANCE must be/)
    expect(await usageError(['verify', 'a.b.c', ...base, '--clock-tolerance', 'soon'])).toMatch(/^jwtguard: --clock-tolerance must be/)
  })

  it('JWT_SECRET from --env verifies an HMAC token and is never printed', async () => {
    const secret = Buffer.from(issuer.secret).toString('latin1')
    const env = { JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: issuer.audience as string, JWT_SECRET: secret }
    // The issuer's secret is random bytes: only an ASCII one travels in the environment, so sign with our own.
    const ascii = 'env-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQ'
    const token = await issuer.sign({}, { alg: 'HS256', key: new TextEncoder().encode(ascii) })
    const ok = await run(['verify', token, '--env', '--json'], { ...env, JWT_SECRET: ascii })
    expect(ok.code).toBe(0)
    expect(ok.stdout + ok.stderr).not.toContain(ascii)
  })

  it('a JWT_* typo is reported on stderr with the closest name, and the check goes on as the app would', async () => {
    const env = { JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: issuer.audience as string, JWT_ROLE_CLAIM: 'groups' }
    const { code, stdout, stderr } = await run(['verify', await issuer.sign({ groups: ['g'] }), '--env'], env)
    expect(stderr).toBe('jwtguard: warning: environment variable JWT_ROLE_CLAIM is not read by jwtguard: did you mean JWT_ROLES_CLAIM?\n')
    expect(code).toBe(0)
    expect(line(stdout, 'roles: ')).toBe('roles: (none)')
  })

  it('as a child process: the typo warning, once, on stderr; the verdict on stdout', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      JWT_ISSUER: issuer.issuer,
      JWT_AUDIENCE: issuer.audience as string,
      JWT_AUDIENCES: 'typo',
    }
    const { stdout, stderr } = await execute(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'verify', await issuer.sign(), '--env'], {
      cwd: repo,
      timeout: 60_000,
      env,
    })
    expect(stderr).toBe('jwtguard: warning: environment variable JWT_AUDIENCES is not read by jwtguard: did you mean JWT_AUDIENCE?\n')
    expect(lastLine(stdout)).toBe('token accepted by every check that ran; not checked: revocation')
  }, 90_000)
})
