import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.js'
import { jsonLog } from './log.js'
import { startServe } from './server.js'

/** `--listen 127.0.0.1:9000` or `[::1]:9000`. */
function parseListen(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':')
  const host = value.slice(0, colon).replace(/^\[(.*)\]$/, '$1')
  const port = Number(value.slice(colon + 1))
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError('--listen must be HOST:PORT, e.g. 127.0.0.1:8080')
  return { host, port }
}

/** What `serve` needs of the CLI's streams and environment (declared here: the CLI imports this module). */
export interface ServeIo {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  env: Record<string, string | undefined>
}

/**
 * `jwtguard serve [--config FILE] [--check] [--listen HOST:PORT]`: the
 * forward-auth decision service. Resolves with the exit code once stopped
 * (SIGTERM or SIGINT, after draining); SIGHUP reloads the configuration.
 */
export async function serveCommand(args: string[], io: ServeIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, check: { type: 'boolean' }, listen: { type: 'string' } },
  })
  const listen = values.listen === undefined ? undefined : parseListen(values.listen)
  const load: Parameters<typeof startServe>[0] = (onEvent) => {
    const config = loadConfig(values.config, io.env, onEvent)
    if (listen) config.listen = listen
    return config
  }
  const log = jsonLog(io.stderr)
  try {
    if (values.check) {
      const config = load(() => {})
      io.stdout.write(`${values.config ?? 'environment'}: valid (${config.routes.length} route rules)\n`)
      return 0
    }
    const handle = await startServe(load, log)
    io.stdout.write(`${JSON.stringify({ msg: 'listening', host: handle.host, port: handle.port })}\n`)
    return await new Promise<number>((resolve) => {
      const stop = (signal: string): void => {
        log({ level: 'info', msg: 'draining', signal })
        void handle.close().then(() => {
          log({ level: 'info', msg: 'stopped' })
          resolve(0)
        })
      }
      process.once('SIGTERM', () => stop('SIGTERM'))
      process.once('SIGINT', () => stop('SIGINT'))
      process.on('SIGHUP', () => void handle.reload())
    })
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`jwtguard serve: ${err.message}\n`)
      return 1
    }
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' || (err as NodeJS.ErrnoException).code === 'EACCES') {
      io.stderr.write(`jwtguard serve: cannot listen: ${(err as Error).message}\n`)
      return 1
    }
    throw err
  }
}
