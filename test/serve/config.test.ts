// Config validation: every problem at once, named by place (routes[i] with its match, the field), unknown
// fields with the closest known name; `jwtguard serve --check` in-process; the JWT_* environment alone.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import { ConfigError, parseConfig } from '../../src/serve/config.js'

const GUARD = { issuer: 'https://idp.example.test/', audience: 'api', jwks: { keys: [] as unknown[] } }
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jwtguard-serve-config-'))
  // A real public key, so that the guard can be built without a network.
  const { generateKeyPair, exportJWK } = await import('jose')
  const { publicKey } = await generateKeyPair('ES256', { extractable: true })
  GUARD.jwks.keys = [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }]
})
afterAll(() => rm(dir, { recursive: true, force: true }))

function problemsOf(json: unknown): string[] {
  try {
    parseConfig(json)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  throw new Error('expected a ConfigError')
}

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out = { code: -1, stdout: '', stderr: '' }
  out.code = await main(argv, {
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
    stdin: Readable.from(['']),
    env,
  })
  return out
}

describe('jwtguard serve: configuration', () => {
  it('accepts a full configuration, with a preset and explicit fields over it', () => {
    const config = parseConfig({
      listen: { host: '127.0.0.1', port: 0 },
      trustedProxies: ['10.0.0.0/8', '::ffff:192.168.1.1', 'fd00::/8'],
      publicOrigin: 'https://api.example.test',
      guard: { ...GUARD, preset: { name: 'keycloak', clientId: 'orders-api' }, realm: 'orders' },
      routes: [
        { match: '* /public/*', auth: false },
        { match: 'GET /orders/*', scopes: ['orders:read'], roles: ['Order Admins'], mode: 'any', claims: { tid: ['a'] } },
      ],
      default: 'deny',
      headers: { subject: 'X-User' },
      claimHeaders: { 'X-Tenant': 'tid' },
    })
    expect(config.routes.map((r) => r.name)).toEqual(['routes[0] ("* /public/*")', 'routes[1] ("GET /orders/*")'])
    expect(config.guard.settings.realm).toBe('orders')
    expect(config.trusts('::ffff:10.1.2.3')).toBe(true)
    expect(config.trusts('192.168.1.1')).toBe(true)
    expect(config.trusts('127.0.0.1')).toBe(false)
    expect(config.identity).toMatchObject({ subject: 'X-User', scopes: 'X-Auth-Scopes', claims: [['X-Tenant', 'tid']] })
  })

  it('reports every kind of error at once, naming routes[i] with its match and the field', () => {
    const problems = problemsOf({
      listen: { host: '', port: 70000, hots: 'x' },
      trustedProxies: ['10.0.0.0/33', 'not-an-ip', '1.2.3.4/8/9'],
      publicOrigin: 'https://api.example.test/path',
      guard: { ...GUARD, audiance: 'x', authRequired: false, getKey: 'k', preset: 'keycloack' },
      routes: [
        { match: 'GET orders', scopes: ['a'] },
        { match: 'GET /a/*/b', scope: ['a'] },
        { match: 'GET /x', scopes: [], roles: 'admin', claims: { tid: { a: 1 } }, mode: 'some' },
        { match: '* /public/*', auth: false, scopes: ['a'] },
        { match: 'G(T /x' },
        { scopes: ['a'] },
        'GET /x',
        { match: 'GET /x/../y' },
        { match: 'GET /x', auth: 'no' },
      ],
      default: 'allow',
      headers: { subject: 'X Auth', roles: 'Content-Length' },
      claimHeaders: { 'x-auth-scopes': 'scp', 'Bad Name': 'x', 'X-Ok': '' },
      rouets: [],
    })
    const expected = [
      'config: unknown field "rouets" (did you mean "routes"?)',
      'listen: unknown field "hots" (did you mean "host"?)',
      'listen.host must be an address such as "127.0.0.1"',
      'listen.port must be an integer from 0 (any free port) to 65535',
      'trustedProxies[0] must be an IP address or a CIDR such as "10.0.0.0/8", not "10.0.0.0/33"',
      'trustedProxies[1] must be an IP address or a CIDR such as "10.0.0.0/8", not "not-an-ip"',
      'trustedProxies[2] must be an IP address or a CIDR such as "10.0.0.0/8", not "1.2.3.4/8/9"',
      'guard: unknown field "audiance" (did you mean "audience"?)',
      'guard.authRequired is decided per route here: give a rule "auth": false',
      'guard.getKey is a function: not available in a config file',
      'guard.preset: unknown preset "keycloack" (did you mean "keycloak"?)',
      'publicOrigin must be an origin such as "https://api.example.com" (no path)',
      'routes[0] ("GET orders"): field "match" must have a path starting with "/"',
      'routes[1] ("GET /a/*/b"): unknown field "scope" (did you mean "scopes"?)',
      'routes[1] ("GET /a/*/b"): field "match" may have "*" only at the end of its path',
      'routes[2] ("GET /x"): field "scopes" must be a non-empty array of scope names (no spaces)',
      'routes[2] ("GET /x"): field "roles" must be a non-empty array of role names',
      'routes[2] ("GET /x"): field "claims" must be an object of expected claim values (strings, numbers, booleans, or non-empty arrays of them)',
      'routes[2] ("GET /x"): field "mode" must be "all" or "any"',
      'routes[3] ("* /public/*"): field "scopes" cannot be set on a rule with "auth": false (no token is read)',
      'routes[4] ("G(T /x"): field "match" has an invalid method "G(T"',
      'routes[5]: field "match" is required: "METHOD /path" or "* /path"',
      'routes[6] must be an object such as { "match": "GET /orders/*", "scopes": ["orders:read"] }',
      'routes[7] ("GET /x/../y"): field "match" must not have "." or ".." segments',
      'routes[8] ("GET /x"): field "auth" must be true or false',
      'default must be "deny" or "authenticate"',
      'headers.subject must be a header name (letters, digits, "-")',
      'headers.roles must not be "Content-Length": that header frames the response itself',
      'claimHeaders["x-auth-scopes"] repeats the header "x-auth-scopes"',
      'claimHeaders["Bad Name"] must be a header name (letters, digits, "-")',
      'claimHeaders["X-Ok"] must name a claim',
    ]
    for (const line of expected) expect(problems).toContain(line)
    // The guard itself was built too (and its option errors reported) where the file let it.
    expect(problemsOf({ guard: { issuer: 'https://idp.example.test/', audience: [] } })).toEqual([
      'guard: option "audience" must be a non-empty string or a non-empty array of non-empty strings',
    ])
  })

  it('requires publicOrigin with DPoP, and refuses what a file cannot hold', () => {
    expect(problemsOf({ guard: { ...GUARD, dpop: true } })).toEqual([
      'publicOrigin is required with guard.dpop: the DPoP proof names the public URL (htu), which the gateway hides',
    ])
    expect(parseConfig({ publicOrigin: 'https://api.example.test', guard: { ...GUARD, dpop: { required: true } } }).guard).toBeDefined()
    expect(problemsOf({ guard: { ...GUARD, preset: { name: 'okta', clientId: 'x' } } })).toEqual([
      'guard.preset (okta): unknown field "clientId" (it takes none)',
    ])
  })

  it('refuses a body token source and mtls, which /verify cannot see, rather than failing every such request', () => {
    expect(problemsOf({ guard: { ...GUARD, tokenFrom: ['header', { body: 'access_token' }] } })).toEqual([
      'guard.tokenFrom: { body } cannot work in gateway mode: the proxy never forwards the request body to /verify',
    ])
    expect(problemsOf({ guard: { ...GUARD, tokenFrom: { body: 'access_token' } } })).toHaveLength(1)
    expect(problemsOf({ guard: { ...GUARD, mtls: true } })).toEqual([
      "guard.mtls is not supported in gateway mode yet: the TLS connection /verify sees is the proxy's, not the client's",
    ])
  })
})

describe('jwtguard serve --check', () => {
  it('exits 0 on a valid file and 1 with every problem on an invalid one', async () => {
    const good = join(dir, 'good.json')
    await writeFile(good, JSON.stringify({ guard: GUARD, routes: [{ match: 'GET /a', scopes: ['x'] }] }))
    const ok = await cli(['serve', '--config', good, '--check'])
    expect(ok).toMatchObject({ code: 0, stdout: `${good}: valid (1 route rules)\n` })

    const bad = join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({ guard: GUARD, routes: [{ match: 'GET /a', scope: ['x'] }], default: 'open' }))
    const refused = await cli(['serve', '--config', bad, '--check'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('routes[0] ("GET /a"): unknown field "scope" (did you mean "scopes"?)')
    expect(refused.stderr).toContain('default must be "deny" or "authenticate"')

    const notJson = join(dir, 'broken.json')
    await writeFile(notJson, '{ "guard": ')
    expect(await cli(['serve', '--config', notJson, '--check'])).toMatchObject({ code: 1, stderr: expect.stringContaining('is not JSON') })
    expect(await cli(['serve', '--config', join(dir, 'missing.json'), '--check'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('cannot read'),
    })
  })

  it('takes the JWT_* environment without --config', async () => {
    const env = { JWT_ISSUER: 'https://idp.example.test/', JWT_AUDIENCE: 'api', JWT_SECRET: 'x'.repeat(32) }
    expect(await cli(['serve', '--check'], env)).toMatchObject({ code: 0, stdout: 'environment: valid (0 route rules)\n' })
    expect(await cli(['serve', '--check'], {})).toMatchObject({ code: 1, stderr: expect.stringContaining('JWT_ISSUER') })
    expect(await cli(['serve', '--check', '--listen', 'nonsense'], env)).toMatchObject({ code: 2 })
  })
})
