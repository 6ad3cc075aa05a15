import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { createPublicKey, verify as cryptoVerify, type JsonWebKey, type KeyObject } from 'node:crypto'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import {
  CONFIG_ENV,
  FRAMEWORKS,
  VARIANTS,
  type ChildMessage,
  type Framework,
  type ParentMessage,
  type ServerConfig,
  type ServerKind,
  type Variant,
  BASELINE_ENV,
  BASELINE_VARIANTS,
} from './protocol.js'

/** The server side of a bench server process: config, the hand-written route's verifier, and the IPC loop. */

export function readConfig(): ServerConfig {
  const raw = process.env[CONFIG_ENV]
  if (!raw) throw new Error(`${CONFIG_ENV} is not set: bench servers are started by bench/servers/launch.ts`)
  return JSON.parse(raw) as ServerConfig
}

export const publicKeyOf = (config: ServerConfig): KeyObject => createPublicKey({ key: config.jwk as JsonWebKey, format: 'jwk' })
export const pemOf = (config: ServerConfig): string => publicKeyOf(config).export({ type: 'spki', format: 'pem' }) as string

/**
 * What a careful hand-written route does with raw node:crypto: RS256 signature
 * (sync, KeyObject imported once), then `exp`, `iss` and `aud`. Returns the
 * `sub`, or `undefined` for any failure.
 */
export function rawVerifier(config: ServerConfig): (authorization: string | undefined) => string | undefined {
  const key = publicKeyOf(config)
  return (authorization) => {
    if (!authorization?.startsWith('Bearer ')) return undefined
    const token = authorization.slice(7)
    const first = token.indexOf('.')
    const last = token.lastIndexOf('.')
    if (first < 0 || first === last) return undefined
    try {
      if (!cryptoVerify('sha256', Buffer.from(token.slice(0, last), 'latin1'), key, Buffer.from(token.slice(last + 1), 'base64url')))
        return undefined
      const claims = JSON.parse(Buffer.from(token.slice(first + 1, last), 'base64url').toString('utf8')) as Record<string, unknown>
      const fresh = typeof claims.exp === 'number' && claims.exp > Date.now() / 1000
      const ok = fresh && claims.iss === config.issuer && claims.aud === config.audience && typeof claims.sub === 'string'
      return ok ? (claims.sub as string) : undefined
    } catch {
      return undefined
    }
  }
}

/** The framework version named in argv[2], which must be one that `kind`'s server file serves. */
export function frameworkArg(kind: ServerKind): Framework {
  const asked = process.argv[2] as Framework | undefined
  if (asked === undefined || !Object.hasOwn(FRAMEWORKS, asked) || FRAMEWORKS[asked].server !== kind) {
    const known = Object.keys(FRAMEWORKS).filter((f) => FRAMEWORKS[f as Framework].server === kind)
    throw new Error(`bench/servers/${kind}.ts: argv[2] must be one of ${known.join(', ')}`)
  }
  return asked
}

const require = createRequire(import.meta.url)

/**
 * The framework package of a version (its npm alias, e.g. `express4`), loaded as the CommonJS it is: the aliases
 * ship no types of their own, so the caller types it with the current major's (as test/conformance/apps.ts does).
 */
export const loadFramework = <T>(framework: Framework): T => require(FRAMEWORKS[framework].module) as T

const versionOf = (framework: Framework): string => (require(`${FRAMEWORKS[framework].module}/package.json`) as { version: string }).version

/** The variants named in argv[3] (comma-separated), default all of the framework's. */
function requestedVariants(framework: Framework): Variant[] {
  const all: readonly Variant[] = [...VARIANTS[framework], ...(process.env[BASELINE_ENV] ? BASELINE_VARIANTS : [])]
  const asked = process.argv[3]?.split(',') ?? [...all]
  const unknown = asked.filter((v) => !all.includes(v as Variant))
  if (unknown.length > 0) throw new Error(`${framework}: unknown variant(s) ${unknown.join(', ')}; known: ${all.join(', ')}`)
  return asked as Variant[]
}

/**
 * Starts one server per requested variant (each on its own 127.0.0.1 port),
 * reports the ports to the parent over IPC, answers `stats` / `reset`, and
 * exits when the parent goes away or sends SIGTERM.
 */
/**
 * jwtguard as built in the baseline checkout: its core and this framework's adapter, imported from
 * `DIR/dist` (a `--baseline` run only).
 */
export async function baseline<A>(kind: ServerKind): Promise<{ createGuard: (options: object) => { ready(): Promise<void> }; adapter: A }> {
  const dir = process.env[BASELINE_ENV]
  if (!dir) throw new Error('baseline variants need npm run bench -- --baseline DIR')
  const core = await import(pathToFileURL(`${dir}/dist/src/index.js`).href)
  const adapter = (await import(pathToFileURL(`${dir}/dist/adapters/${kind}.js`).href)) as A
  return { createGuard: core.createGuard, adapter }
}

export async function serve(framework: Framework, start: (variant: Variant) => Promise<number>): Promise<void> {
  if (!process.send) throw new Error('bench servers run under bench/servers/launch.ts (they report over IPC)')
  const send = (message: ChildMessage) => process.send!(message)
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  // The longest garbage-collection pause, to tell a stall of our heap from one of the machine.
  let gcMaxMs = 0
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration)
  }).observe({ entryTypes: ['gc'] })
  let cpuSince = process.cpuUsage()
  const ports: Partial<Record<Variant, number>> = {}
  for (const variant of requestedVariants(framework)) ports[variant] = await start(variant)
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'reset') {
      cpuSince = process.cpuUsage()
      gcMaxMs = 0
      return delay.reset()
    }
    const { rss, heapUsed } = process.memoryUsage()
    const cpu = process.cpuUsage(cpuSince)
    const cpuUs = cpu.user + cpu.system
    send({ type: 'stats', eventLoopMaxMs: delay.max / 1e6, eventLoopP99Ms: delay.percentile(99) / 1e6, gcMaxMs, rss, heapUsed, cpuUs })
  })
  process.on('disconnect', () => process.exit(0))
  process.on('SIGTERM', () => process.exit(0))
  send({ type: 'ready', ports, version: versionOf(framework) })
}
