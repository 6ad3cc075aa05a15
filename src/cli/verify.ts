// `jwtguard verify`: runs the real guard on a token and prints, check by check, why it is accepted or refused, what
// it grants, and what the guard fetched to decide.
import { parseArgs } from 'node:util'
import { ERROR_CODES } from '../errors.js'
import type { GuardEvent } from '../events.js'
import { printable, type Explanation, type ExplainStep } from '../explain.js'
import { createGuard, type Guard } from '../guard.js'
import type { GuardRequest } from '../intake/request.js'
import { note, print, printLines, tokenOf, type CliIo } from './io.js'
import { clientCertificate } from './files.js'
import { guardOptions } from './options.js'

/** A document the guard fetched while verifying: discovery, then a key set. */
type Fetched = { type: 'discovery'; issuer: string; jwksUri: string } | { type: 'jwks'; url: string; keyCount: number }

/** The flags of `verify`, as `parseArgs` takes them (the usage text and the docs list each). */
export const VERIFY_FLAGS = {
  issuer: { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  'jwks-uri': { type: 'string' },
  typ: { type: 'string' },
  algorithms: { type: 'string' },
  'secret-env': { type: 'string' },
  'clock-tolerance': { type: 'string' },
  preset: { type: 'string' },
  'preset-client-id': { type: 'string' },
  'scope-claim': { type: 'string' },
  'roles-claim': { type: 'string' },
  'required-claims': { type: 'string' },
  'decryption-key-file': { type: 'string' },
  // Repeatable here only to be refused when repeated (parseArgs would keep the last one silently).
  'client-cert': { type: 'string', multiple: true },
  env: { type: 'boolean' },
  json: { type: 'boolean' },
} as const

// What a header value carries before the token: pasted from a request, it is stripped (and said so).
const SCHEME = /^(?:authorization:\s*)?(bearer|dpop)\s+/i

/** The token alone: a pasted `Bearer ` or `DPoP ` prefix is removed, with a note on stderr. */
export function withoutScheme(token: string, io: CliIo): string {
  const scheme = SCHEME.exec(token)
  if (!scheme) return token
  const proof = scheme[1]!.toLowerCase() === 'dpop' ? ' (no DPoP proof is checked here)' : ''
  note(io, `note: removed the "${scheme[1]} " prefix${proof}; give the token alone`)
  return token.slice(scheme[0].length)
}

export async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  // A secret in argv is visible to every user of the machine (ps, shell history): only the environment is read.
  if (args.some((a) => a === '--secret' || a.startsWith('--secret=')))
    throw new TypeError('--secret is not accepted: put the secret in an environment variable and give --secret-env NAME')
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: VERIFY_FLAGS })
  const certificate = clientCertificate(values['client-cert'])
  const options = guardOptions(values, io)
  const fetched: Fetched[] = []
  options.onEvent = (event: GuardEvent) => {
    if (event.type === 'discovery_fetched') fetched.push({ type: 'discovery', issuer: event.issuer, jwksUri: event.jwksUri })
    // A discovered key set is labelled with its issuer: name the URL that discovery gave.
    else if (event.type === 'jwks_fetched') fetched.push({ type: 'jwks', url: jwksUrl(fetched, event.source), keyCount: event.keyCount })
  }
  let guard
  try {
    guard = createGuard(options)
  } catch (err) {
    const keyFile = values['decryption-key-file']
    // The guard names the option ("decryption.keys[0]"); the user gave a file.
    if (keyFile !== undefined && err instanceof TypeError && err.message.includes('"decryption.'))
      throw new TypeError(`--decryption-key-file ${keyFile}: ${err.message.replace(/^jwtguard: /, '')}`)
    throw err
  }
  const token = withoutScheme(await tokenOf(positionals, io), io)
  const dpopRequired = typeof options.dpop === 'object' && options.dpop.required === true
  // Without a client certificate the command has no request, hence no proof: a bound token's binding is reported as
  // not checked, never as passed. With one, the token comes on a request whose connection presents it.
  let explained = certificate ? await explainPresented(guard, token, certificate) : undefined
  if (!explained) explained = await guard.explain(token, { bindingCheckedElsewhere: true })
  if (certificate && explained.payload && !boundBy(explained, 'x5t#S256'))
    note(io, 'note: the token is not bound to a client certificate (no cnf["x5t#S256"]): --client-cert played no part')
  const explanation = withSkipped(bearerRefused(certificateHint(explained), dpopRequired))
  const code = explanation.ok ? 0 : 1
  // JSON.stringify escapes C0 controls but not C1 or bidi ones; its newlines are all structural, and the escapes
  // `printable` writes are JSON's own, so the output stays JSON that parses to the same value.
  if (values.json) {
    // A check that did not run says so (`ok: null`), where JSON.stringify would drop an `undefined` one.
    const steps = explanation.steps.map((step) => ({ ...step, ok: step.ok ?? null }))
    const report = { ...explanation, steps, scopes: explanation.scopes ?? null, roles: explanation.roles ?? null, fetched }
    return printLines(io, JSON.stringify(report, null, 2).split('\n'), code)
  }
  const fancy = io.stdout.isTTY === true && !io.env.NO_COLOR
  const width = Math.max(...explanation.steps.map((s) => s.check.length))
  // The marks stay out of `printable`: in colour they are escape sequences of our own.
  const lines = explanation.steps.map((step) => `${mark(step, fancy)} ${step.check.padEnd(width)}  ${printable(step.detail)}`)
  lines.push(...[...grants(explanation), ...fetched.map(fetchedLine)].map(printable), verdict(explanation))
  return print(io, `${lines.join('\n')}\n`, code)
}

/**
 * The token as the API sees it on a TLS connection that presented `certificate`: the guard's own mtls stage compares
 * the thumbprints. `undefined` for a DPoP-bound token, which needs a proof and no certificate: it is explained as
 * without `--client-cert` (its binding skipped), not refused as a Bearer use.
 */
async function explainPresented(guard: Guard<unknown>, token: string, certificate: Buffer): Promise<Explanation | undefined> {
  const request: GuardRequest = {
    headers: { authorization: `Bearer ${token}` },
    method: 'GET',
    url: '/',
    connection: { encrypted: true, getPeerCertificate: () => ({ raw: certificate }) },
  }
  const explained = await guard.explain(request)
  if (explained.code === 'ERR_DPOP_BINDING_INVALID' && boundBy(explained, 'jkt')) return undefined
  // The command built the request: that its intake passed says nothing about the token.
  return { ...explained, steps: explained.steps.filter((s) => s.check !== 'request' || s.ok !== true) }
}

/** Whether the token's `cnf` is this one confirmation method (RFC 7800 §3.1: one per token). */
const boundBy = ({ payload }: Explanation, member: string): boolean => {
  const cnf = payload?.cnf
  return typeof cnf === 'object' && cnf !== null && Object.keys(cnf).join() === member
}

/** A certificate-bound token refused by a guard without mtls: the command can check it, given the certificate. */
function certificateHint(explanation: Explanation): Explanation {
  if (explanation.code !== 'ERR_JWT_CNF_UNSUPPORTED' || !boundBy(explanation, 'x5t#S256')) return explanation
  const steps = explanation.steps.map((s) =>
    s.check === 'binding' && s.ok === false
      ? { ...s, detail: `${s.detail}; give --client-cert FILE, the certificate it is bound to, to check the binding` }
      : s,
  )
  return { ...explanation, steps }
}

/**
 * With `dpop.required` (JWT_DPOP=required) the API refuses every token not bound to a DPoP key, whatever the
 * request: `guard.verify` has no request to refuse it by, so the command says it here, as the binding check.
 */
function bearerRefused(explanation: Explanation, dpopRequired: boolean): Explanation {
  const cnf = explanation.payload?.cnf
  if (!dpopRequired || !explanation.ok || (typeof cnf === 'object' && cnf !== null && 'jkt' in cnf)) return explanation
  const steps = explanation.steps.filter((s) => s.check !== 'revocation' && s.check !== 'binding')
  steps.push(
    { check: 'binding', ok: false, detail: 'DPoP is required (dpop.required) and the token is not bound to a DPoP key (no cnf.jkt)' },
    { check: 'revocation', ok: undefined, detail: 'not checked' },
  )
  return { ...explanation, ok: false, code: 'ERR_DPOP_BINDING_INVALID', steps, scopes: undefined, roles: undefined }
}

/**
 * What the guard did not check, said as skipped, never passed: the command has no revocation store (the app's
 * lives in the app) and no request, hence no DPoP proof for a bound token. A refused token's later checks did not
 * run either.
 */
function withSkipped(explanation: Explanation): Explanation {
  const steps = [...explanation.steps]
  const cnf = explanation.payload?.cnf
  if (typeof cnf === 'object' && cnf !== null && !steps.some((s) => s.check === 'binding')) {
    const jkt = (cnf as { jkt?: unknown }).jkt
    const detail = explanation.ok
      ? `skipped: bound to a DPoP key (cnf.jkt ${JSON.stringify(jkt)}) and no DPoP proof was given`
      : 'not checked'
    steps.push({ check: 'binding', ok: undefined, detail })
  }
  if (!steps.some((s) => s.check === 'revocation'))
    steps.push({
      check: 'revocation',
      ok: undefined,
      detail: explanation.ok ? 'skipped: no isRevoked or revocation store is configured' : 'not checked',
    })
  return { ...explanation, steps }
}

const quoted = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(' ') || '(none)'

/** One line each for what an accepted token grants, as `AuthInfo` has it. */
function grants({ scopes, roles }: Explanation): string[] {
  if (!scopes || !roles) return []
  return [`scopes: ${quoted(scopes)}`, `roles: ${quoted(roles)}`]
}

function jwksUrl(fetched: readonly Fetched[], source: string): string {
  const discovery = fetched.find((f) => f.type === 'discovery' && f.issuer === source)
  return discovery?.type === 'discovery' ? discovery.jwksUri : source
}

const fetchedLine = (f: Fetched): string =>
  f.type === 'discovery'
    ? `fetched discovery of ${JSON.stringify(f.issuer)}: jwks_uri ${JSON.stringify(f.jwksUri)}`
    : `fetched key set ${JSON.stringify(f.url)}: ${f.keyCount} key${f.keyCount === 1 ? '' : 's'}`

function verdict({ code, steps }: Explanation): string {
  if (code) return ERROR_CODES[code] === 503 ? `token not verified: a service it needs is unavailable (${code})` : `token refused: ${code}`
  const skipped = steps.filter((s) => s.ok === undefined).map((s) => s.check)
  return skipped.length
    ? `token accepted by every check that ran; not checked: ${skipped.join(', ')}`
    : 'token accepted: every check passed'
}

function mark(step: ExplainStep, fancy: boolean): string {
  if (!fancy) return step.ok === true ? 'PASS' : step.ok === false ? 'FAIL' : 'SKIP'
  return step.ok === true ? '\x1b[32m✔\x1b[0m' : step.ok === false ? '\x1b[31m✘\x1b[0m' : '\x1b[2m·\x1b[0m'
}
