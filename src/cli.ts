#!/usr/bin/env node
// The `jwtguard` command, a token doctor: `inspect` decodes a token without trusting it; `verify` runs the real
// guard and says, check by check, why a token is accepted or refused.
import { readFileSync, realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { GuardError } from './errors.js'
import { humanDuration, MALFORMED_REASONS, printable } from './explain.js'
import { parseToken } from './intake/token.js'
import { print, printLines, tokenOf, type CliIo } from './cli/io.js'
import { verifyCommand, withoutScheme } from './cli/verify.js'

const USAGE = `Usage:
  jwtguard inspect <token>   decode header and claims WITHOUT verifying them
  jwtguard verify <token> --issuer <iss> --audience <aud> [options]
                             run the real guard and explain each check
  jwtguard serve [--config FILE] [--check] [--listen HOST:PORT]
                             the forward-auth decision service for nginx, Caddy, Traefik, Envoy
                             (without --config, the JWT_* environment configures the guard)
  jwtguard --help | --version
A token given as - is read from stdin.

Options of verify (each flag wins over its JWT_* variable):
  --jwks-uri <url>          the key set (default: discovery from the issuer)
  --typ <typ>               required typ header, e.g. at+jwt
  --algorithms <list>       allowed algorithms, e.g. RS256,ES256
  --secret-env <NAME>       HMAC secret from this environment variable
  --clock-tolerance <time>  allowed clock skew, e.g. 30s (default 5s)
  --preset <name>           auth0, okta, entra, keycloak, cognito or rfc9068
  --preset-client-id <id>   the Keycloak client whose roles count (with --preset keycloak)
  --scope-claim <paths>     claim paths granting scopes, comma-separated
  --roles-claim <paths>     claim paths granting roles, e.g. realm_access.roles
  --required-claims <list>  claims that must be present, comma-separated
  --decryption-key-file <file>
                            private key for JWE tokens: PEM, JWK or JWKS (JSON)
  --client-cert <file>      the client certificate (PEM or DER) of a certificate-bound token
                            (cnf x5t#S256): checked as if presented on the TLS connection
  --env                     also read the JWT_* variables the app reads
  --json                    print the explanation as JSON
--issuer and --audience may be repeated. A pasted "Bearer " or "DPoP " prefix is removed.
Checks the command cannot run (revocation, a DPoP binding) are shown as SKIP, never as PASS;
a certificate-bound token without --client-cert is refused, as an API without mtls refuses it.

Exit codes: 0 accepted, 1 refused or malformed, 2 usage error.
`

// Reasons of the intake check (src/intake/token.ts), in words.
const NUMERIC_DATES = new Set(['exp', 'nbf', 'iat', 'auth_time'])

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === undefined || argv.includes('--help') || argv.includes('-h')) return print(io, USAGE, 0)
    if (command === '--version') return print(io, `${version()}\n`, 0)
    if (command === 'inspect') {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true })
      return inspect(withoutScheme(await tokenOf(positionals, io), io), io)
    }
    if (command === 'verify') return await verifyCommand(rest, io)
    // Loaded only for `serve`: the metrics library stays out of every other command.
    if (command === 'serve') return await (await import('./serve/command.js')).serveCommand(rest, io)
    throw new TypeError(`unknown command "${command}"`)
  } catch (err) {
    // Usage errors (parseArgs, createGuard's TypeErrors) and anything unexpected: one line, never a stack.
    const message = printable(err instanceof Error ? err.message : String(err))
    io.stderr.write(`${message.startsWith('jwtguard:') ? message : `jwtguard: ${message}`}\nRun "jwtguard --help" for usage.\n`)
    return 2
  }
}

function version(): string {
  // src/cli.ts sits one level below package.json, dist/src/cli.js two.
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8'))
      if (pkg.name === 'jwtguard') return String(pkg.version)
    } catch {
      // not this level
    }
  }
  return 'unknown'
}

function inspect(token: string, io: CliIo): number {
  let parsed
  try {
    parsed = parseToken(token, Number.POSITIVE_INFINITY)
  } catch (err) {
    const reason = err instanceof GuardError ? String(err.context.reason) : ''
    io.stderr.write(`malformed token: ${MALFORMED_REASONS[reason] ?? reason}\n`)
    return 1
  }
  const { segments, header, payload, encrypted } = parsed
  const size = Buffer.byteLength(token)
  const lines = [
    'UNVERIFIED — decoded only: nothing below is checked (jwtguard verify checks it)',
    `${encrypted ? 'JWE' : 'JWS'}, ${segments.length} segments, ${size} bytes${size > 8192 ? ' (over the default 8 KiB limit)' : ''}`,
    encrypted ? 'protected header' : 'header',
    ...fields(header),
    ...(payload ? ['claims', ...fields(payload)] : ['claims: encrypted (only the holder of the decryption key can read them)']),
  ]
  return printLines(io, lines, 0)
}

function fields(object: Record<string, unknown>): string[] {
  const width = Math.max(...Object.keys(object).map((k) => k.length))
  return Object.entries(object).map(([name, value]) => `  ${name.padEnd(width)}  ${show(name, value)}`)
}

/** A claim as JSON; a NumericDate also as a UTC time and its distance from now. */
function show(name: string, value: unknown): string {
  const date = typeof value === 'number' && NUMERIC_DATES.has(name) ? new Date(value * 1000) : undefined
  if (!date || Number.isNaN(date.getTime())) return JSON.stringify(value)
  const delta = (value as number) - Date.now() / 1000
  const when = Math.abs(delta) < 1 ? 'now' : delta > 0 ? `in ${humanDuration(delta)}` : `${humanDuration(delta)} ago`
  return `${date.toISOString().replace('.000Z', 'Z')} (${when})`
}

// Run as a script (also through npm's bin symlink, hence realpath), not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code
  })
}

export type { CliIo } from './cli/io.js'
