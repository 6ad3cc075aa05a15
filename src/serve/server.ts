import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { GuardEvent } from '../events.js'
import { ConfigError, type ServeConfig } from './config.js'
import { createDecider, internalError } from './decide.js'
import type { Log } from './log.js'
import { createMetrics } from './metrics.js'

/** Longest wait for keys in `/readyz` and on reload. */
const READY_TIMEOUT_MS = 5_000
/** Idle keep-alive connections are closed after this. */
const KEEP_ALIVE_MS = 65_000
/** Longest drain on shutdown before open connections are cut. */
const DRAIN_TIMEOUT_MS = 10_000

export interface ServeHandle {
  readonly host: string
  readonly port: number
  /** Reads the configuration again and swaps it in once its keys are held; keeps the old one (and logs why) otherwise. */
  reload(): Promise<boolean>
  /** Stops accepting, lets requests in flight finish (at most `DRAIN_TIMEOUT_MS`), then resolves. */
  close(): Promise<void>
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const codeOf = (err: unknown): string =>
  typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : err instanceof Error ? err.message : String(err)

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body))
}

/**
 * Starts the forward-auth service: `/verify` (any method), `/healthz`,
 * `/readyz`, `/metrics`. `load` builds the configuration, at start and on
 * each reload; a `ConfigError` at start rejects.
 */
export async function startServe(load: (onEvent: (e: GuardEvent) => void) => ServeConfig, log: Log): Promise<ServeHandle> {
  const metrics = await createMetrics()
  let config = load(metrics.event)
  let decide = createDecider(config, metrics, log)
  let draining = false

  const warm = (c: ServeConfig) => withTimeout(c.guard.ready(), READY_TIMEOUT_MS)
  warm(config).then(
    () => log({ level: 'info', msg: 'keys_ready' }),
    (err: unknown) => log({ level: 'warn', msg: 'keys_unavailable', code: codeOf(err) }),
  )

  const operations = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/healthz') return json(res, 200, { status: 'ok' })
    if (path === '/readyz')
      return void warm(config).then(
        () => json(res, 200, { status: 'ready' }),
        (err: unknown) => json(res, 503, { status: 'unavailable', code: codeOf(err) }),
      )
    if (path === '/metrics')
      return void metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: unknown) => internalError(res, err, log),
      )
    json(res, 404, { code: 'not_found' })
  }

  const server = createServer((req, res) => {
    // While draining, each answer closes its connection, so that keep-alive peers move to another instance.
    if (draining) res.setHeader('connection', 'close')
    const url = req.url
    try {
      if (url === '/verify' || url?.startsWith('/verify?') || url?.startsWith('/verify/')) decide(req, res)
      else operations(req, res)
    } catch (err) {
      internalError(res, err, log)
    }
  })
  // Longer than nginx's upstream keepalive_timeout (60 s): a gateway must never reuse a connection that we are
  // closing at that moment (its subrequest would fail, and auth_request answer 500).
  server.keepAliveTimeout = KEEP_ALIVE_MS
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo

  let reloading = Promise.resolve(true)
  return {
    host: address.address,
    port: address.port,
    reload() {
      reloading = reloading.then(async () => {
        let next: ServeConfig
        try {
          next = load(metrics.event)
          await warm(next)
        } catch (err) {
          const problems = err instanceof ConfigError ? err.problems : [`keys unavailable: ${codeOf(err)}`]
          log({ level: 'error', msg: 'reload_failed', problems, kept: 'the previous configuration' })
          return false
        }
        if (next.listen.host !== config.listen.host || next.listen.port !== config.listen.port)
          log({ level: 'warn', msg: 'listen_unchanged', reason: 'a new listen address takes a restart' })
        config = next
        decide = createDecider(next, metrics, log)
        log({ level: 'info', msg: 'reloaded', routes: next.routes.length })
        return true
      })
      return reloading
    },
    close() {
      draining = true
      return new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS)
        server.close(() => {
          clearTimeout(cut)
          resolve()
        })
        server.closeIdleConnections()
      })
    },
  }
}
