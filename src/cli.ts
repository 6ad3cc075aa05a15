#!/usr/bin/env node
// The `jwtguard` command, a token doctor: `inspect` decodes a token without trusting it; `verify` runs the real
// guard and says, check by check, why a token is accepted or refused.
import { readFileSync, realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { CliIo } from './cli-io.js'
import { ERROR_CODES, GuardError } from './errors.js'
import { humanDuration, MALFORMED_REASONS, printable, type ExplainStep } from './explain.js'
import { createGuard } from './guard.js'
import { parseToken } from './intake/token.js'
import type { GuardOptions, JwsAlgorithm } from './options.js'

const USAGE = `Usage:
  jwtguard inspect <token>   decode header and claims WITHOUT verifying them
  jwtguard verify <token> --issuer <iss> --audience <aud> [options]
                             run the real guard and explain each check
  jwtguard serve [--config FILE] [--check] [--listen HOST:PORT]
                             the forward-auth decision service for nginx, Caddy, Traefik, Envoy
                             (without --config, the JWT_* environment configures the guard)
  jwtguard --help | --version
A token given as - is read from stdin.

Options of verify:
  --jwks-uri <url>          the key set (default: discovery from the issuer)
  --typ <typ>               required typ header, e.g. at+jwt
  --algorithms <list>       allowed algorithms, e.g. RS256,ES256
  --secret-env <NAME>       HMAC secret from this environment variable
  --clock-tolerance <time>  allowed clock skew, e.g. 30s (default 5s)
  --json                    print the explanation as JSON
--issuer and --audience may be repeated.

Exit codes: 0 accepted, 1 refused or malformed, 2 usage error.
`

// Reasons of the intake check (src/intake/token.ts), in words.
const NUMERIC_DATES = new Set(['exp', 'nbf', 'iat', 'auth_time'])
// Bounds what `-` reads: the guard refuses anything over 8 KiB by default anyway.
const MAX_STDIN = 1024 * 1024

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === undefined || argv.includes('--help') || argv.includes('-h')) return print(io, USAGE, 0)
    if (command === '--version') return print(io, `${version()}\n`, 0)
    if (command === 'inspect') return inspect(await tokenOf(parseArgs({ args: rest, allowPositionals: true }).positionals, io), io)
    if (command === 'verify') return await verify(rest, io)
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

function print(io: CliIo, text: string, code: number): number {
  io.stdout.write(text)
  return code
}

/**
 * Lines that show a token's strings, each made printable: a claim named or
 * valued with ESC, C1 or bidi controls cannot drive the terminal, nor (with a
 * newline) forge a line of its own.
 */
const printLines = (io: CliIo, lines: string[], code: number): number => print(io, `${lines.map(printable).join('\n')}\n`, code)

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

async function tokenOf(positionals: string[], io: CliIo): Promise<string> {
  if (positionals.length !== 1) throw new TypeError('give exactly one token (or - to read it from stdin)')
  if (positionals[0] !== '-') return positionals[0]!
  let text = ''
  for await (const chunk of io.stdin) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    if (text.length > MAX_STDIN) throw new TypeError('stdin holds more than 1 MiB: that is no token')
  }
  return text.trim()
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

async function verify(args: string[], io: CliIo): Promise<number> {
  // A secret in argv is visible to every user of the machine (ps, shell history): only the environment is read.
  if (args.some((a) => a === '--secret' || a.startsWith('--secret=')))
    throw new TypeError('--secret is not accepted: put the secret in an environment variable and give --secret-env NAME')
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      issuer: { type: 'string', multiple: true },
      audience: { type: 'string', multiple: true },
      'jwks-uri': { type: 'string' },
      typ: { type: 'string' },
      algorithms: { type: 'string' },
      'secret-env': { type: 'string' },
      'clock-tolerance': { type: 'string' },
      json: { type: 'boolean' },
    },
  })
  if (!values.issuer) throw new TypeError('verify needs --issuer')
  if (!values.audience) throw new TypeError('verify needs --audience')
  const options: GuardOptions = { issuer: values.issuer, audience: values.audience }
  if (values['jwks-uri'] !== undefined) options.jwksUri = values['jwks-uri']
  if (values.typ !== undefined) options.typ = values.typ
  if (values.algorithms !== undefined) options.algorithms = values.algorithms.split(',').map((a) => a.trim()) as JwsAlgorithm[]
  if (values['clock-tolerance'] !== undefined) options.clockTolerance = values['clock-tolerance']
  const secretName = values['secret-env']
  if (secretName !== undefined) {
    const secret = io.env[secretName]
    if (!secret) throw new TypeError(`--secret-env: the environment variable ${secretName} is not set`)
    options.secret = secret
  }
  const guard = createGuard(options)
  const explanation = await guard.explain(await tokenOf(positionals, io))
  // JSON.stringify escapes C0 controls but not C1 or bidi ones; its newlines are all structural, and the escapes
  // `printable` writes are JSON's own, so the output stays JSON that parses to the same value.
  if (values.json) return printLines(io, JSON.stringify(explanation, null, 2).split('\n'), explanation.ok ? 0 : 1)

  const fancy = io.stdout.isTTY === true && !io.env.NO_COLOR
  const width = Math.max(...explanation.steps.map((s) => s.check.length))
  // The marks stay out of `printable`: in colour they are escape sequences of our own.
  const lines = explanation.steps.map((step) => `${mark(step, fancy)} ${step.check.padEnd(width)}  ${printable(step.detail)}`)
  const { code } = explanation
  if (!code) lines.push('token accepted: every check passed')
  else if (ERROR_CODES[code] === 503) lines.push(`token not verified: a service it needs is unavailable (${code})`)
  else lines.push(`token refused: ${code}`)
  return print(io, `${lines.join('\n')}\n`, explanation.ok ? 0 : 1)
}

function mark(step: ExplainStep, fancy: boolean): string {
  if (!fancy) return step.ok === true ? 'PASS' : step.ok === false ? 'FAIL' : 'SKIP'
  return step.ok === true ? '\x1b[32m✔\x1b[0m' : step.ok === false ? '\x1b[31m✘\x1b[0m' : '\x1b[2m·\x1b[0m'
}

// Run as a script (also through npm's bin symlink, hence realpath), not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code
  })
}

export type { CliIo } from './cli-io.js'
