// `npm start`: a local token issuer, the three example APIs, curl lines to try, and a short tour.
// `--once` (or CI=true) exits after the tour: 0 when every answer was the expected one.
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js'
import { start as startExpress } from './express.js'
import { start as startKoa } from './koa.js'
import { start as startFastify } from './fastify.js'

type Api = { name: string; url: string; close(): Promise<void> }
type TokenName = 'reader' | 'writer' | 'admin' | 'expired'
type Step = { method: 'GET' | 'POST'; path: string; token: TokenName | 'none'; expect: number }

const TOUR: Step[] = [
  { method: 'GET', path: '/orders', token: 'reader', expect: 200 },
  { method: 'GET', path: '/orders', token: 'none', expect: 401 },
  { method: 'GET', path: '/orders', token: 'expired', expect: 401 },
  { method: 'POST', path: '/orders', token: 'reader', expect: 403 },
  { method: 'POST', path: '/orders', token: 'writer', expect: 201 },
  { method: 'GET', path: '/admin', token: 'admin', expect: 200 },
]

// What to paste, per API: [what it shows, method, path, token].
const CURLS: [string, Step['method'], string, TokenName | 'none'][] = [
  ['public, no token', 'GET', '/health', 'none'],
  ['who am I (reader)', 'GET', '/me', 'reader'],
  ['200 for the reader', 'GET', '/orders', 'reader'],
  ['403 insufficient_scope for the reader', 'POST', '/orders', 'reader'],
  ['201 for the writer', 'POST', '/orders', 'writer'],
  ['200 for the admin', 'GET', '/admin', 'admin'],
]

async function mintTokens(issuer: TestIssuer): Promise<Record<TokenName, string>> {
  // ES256 tokens are about half as long as RS256 ones: easier to paste.
  const es256 = { alg: 'ES256' } as const
  return {
    reader: await issuer.sign({ scope: 'orders:read' }, es256),
    writer: await issuer.sign({ scope: 'orders:read orders:write' }, es256),
    admin: await issuer.sign({ roles: ['admin'] }, es256),
    expired: await issuer.sign({ scope: 'orders:read' }, { ...es256, expiresIn: -600 }),
  }
}

function curl(method: Step['method'], url: string, token: string | undefined): string {
  return ['curl -i', method === 'POST' ? '-X POST' : '', token ? `-H "Authorization: Bearer ${token}"` : '', url].filter(Boolean).join(' ')
}

interface Answer {
  api: string
  step: Step
  status: number
  challenge: string
}

async function tour(apis: Api[], tokens: Record<TokenName, string>): Promise<Answer[]> {
  const answers: Answer[] = []
  for (const api of apis) {
    for (const step of TOUR) {
      const headers: Record<string, string> = step.token === 'none' ? {} : { authorization: `Bearer ${tokens[step.token]}` }
      try {
        const res = await fetch(api.url + step.path, { method: step.method, headers })
        await res.arrayBuffer()
        answers.push({ api: api.name, step, status: res.status, challenge: res.headers.get('www-authenticate') ?? '' })
      } catch (err) {
        answers.push({ api: api.name, step, status: 0, challenge: `request failed: ${(err as Error).message}` })
      }
    }
  }
  return answers
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]): string => `  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}`.trimEnd()
  return rows.map(line).join('\n')
}

// Express's default error handler console.error()s every error it renders (unless NODE_ENV=test).
// During the tour those lines are collected and shown after the table, instead of in the middle of it.
async function collectingErrorLogs<T>(run: () => Promise<T>): Promise<{ result: T; logged: string[] }> {
  const logged: string[] = []
  const original = console.error
  console.error = (...args: unknown[]) => logged.push(args.map((a) => (a instanceof Error ? (a.stack ?? String(a)) : String(a))).join(' '))
  try {
    const result = await run()
    await new Promise((resolve) => setImmediate(resolve)) // Express logs on the tick after it answers.
    return { result, logged }
  } finally {
    console.error = original
  }
}

async function main(): Promise<void> {
  const once = process.argv.includes('--once') || process.env.CI === 'true'
  const closers: (() => Promise<void>)[] = []
  const closeAll = async (): Promise<void> => {
    // APIs first, then the issuer they fetch keys from.
    for (const close of closers.splice(0).reverse()) await close().catch(() => {})
  }

  try {
    const issuer = await createTestIssuer()
    closers.push(() => issuer.close())
    const options = { issuer: issuer.issuer, audience: issuer.audience }
    const apis: Api[] = []
    for (const [name, start] of [
      ['Express', startExpress],
      ['Koa', startKoa],
      ['Fastify', startFastify],
    ] as const) {
      const api = await start(options)
      closers.push(() => api.close())
      apis.push({ name, ...api })
    }
    const tokens = await mintTokens(issuer)

    console.log(`Test issuer  ${issuer.issuer}  (discovery + JWKS; tokens for audience ${issuer.audience})`)
    console.log('Tokens: reader (orders:read), writer (orders:read orders:write), admin (role admin), expired.\n')
    for (const api of apis) {
      console.log(`${api.name}  ${api.url}`)
      for (const [what, method, path, token] of CURLS) {
        console.log(`  # ${what}\n  ${curl(method, api.url + path, token === 'none' ? undefined : tokens[token])}`)
      }
      console.log()
    }

    const { result: answers, logged } = await collectingErrorLogs(() => tour(apis, tokens))
    const failures = answers.filter((a) => a.status !== a.step.expect)
    console.log('Tour')
    console.log(
      table([
        ['API', 'REQUEST', 'TOKEN', 'STATUS', 'WWW-Authenticate'],
        ...answers.map((a) => [
          a.api,
          `${a.step.method} ${a.step.path}`,
          a.step.token,
          a.status === a.step.expect ? `${a.status} ✓` : `${a.status} ✗ expected ${a.step.expect}`,
          a.challenge,
        ]),
      ]),
    )
    if (logged.length > 0) {
      console.log(`\nExpress's default error handler logged (it logs every error unless NODE_ENV=test):`)
      for (const line of logged) console.log(`  ${line.split('\n')[0]}`)
    }
    console.log(
      failures.length === 0 ? '\nEvery answer was the expected one.' : `\n${failures.length} answer(s) differ from what is expected.`,
    )

    if (once) {
      process.exitCode = failures.length === 0 ? 0 : 1
      await closeAll()
      return
    }
    console.log('\nPress Ctrl-C to stop.')
    const stop = (): void => {
      console.log('\nStopping…')
      void closeAll().then(() => console.log('Stopped.'))
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  } catch (err) {
    console.error(`Could not start: ${(err as Error).message}`)
    process.exitCode = 1
    await closeAll()
  }
}

await main()
