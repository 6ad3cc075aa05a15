import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { CONFIG_ENV, FRAMEWORKS, type ChildMessage, type Framework, type ServerConfig, type ServerStats, type Variant } from './protocol.js'

/** The parent side: starts a bench server process (its own event loop, away from the load generator) and talks to it over IPC. */

export interface ServerProcess {
  /** The port of each variant started, on 127.0.0.1. */
  ports: Partial<Record<Variant, number>>
  /** The version of the framework package the server loaded. */
  version: string
  child: ChildProcess
  /** Resets the event-loop delay histogram (after a warm-up). */
  reset(): void
  stats(): Promise<ServerStats>
  /** `true` while the process runs: a crash shows here. */
  alive(): boolean
  stop(): Promise<void>
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const START_TIMEOUT_MS = 30_000

function nextMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`bench server sent no ${type} message within ${timeoutMs} ms`)), timeoutMs)
    const onMessage = (message: ChildMessage) => {
      if (message.type === type) done(undefined, message as Extract<ChildMessage, { type: T }>)
    }
    const onExit = (code: number | null) => done(new Error(`bench server exited (code ${code}) before its ${type} message`))
    function done(err: Error | undefined, message?: Extract<ChildMessage, { type: T }>) {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (err) reject(err)
      else resolve(message!)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

/**
 * Starts the server file of `framework` (`bench/servers/express.ts` for `express4` and `express` …) serving `variants`; resolves once every server listens.
 * `BENCH_NODE_ARGS` adds node flags to the server processes, e.g.
 * `BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` to profile them.
 */
export async function launch(framework: Framework, variants: readonly Variant[], config: ServerConfig): Promise<ServerProcess> {
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const child = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', `bench/servers/${FRAMEWORKS[framework].server}.ts`, framework, variants.join(',')],
    {
      cwd: ROOT,
      env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config), NODE_ENV: 'production' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  let ready
  try {
    ready = await nextMessage(child, 'ready', START_TIMEOUT_MS)
  } catch (err) {
    child.kill('SIGTERM')
    throw err
  }
  const alive = () => child.exitCode === null && child.signalCode === null
  return {
    ports: ready.ports,
    version: ready.version,
    child,
    reset: () => void child.send({ type: 'reset' }),
    async stats() {
      const reply = nextMessage(child, 'stats', 10_000)
      child.send({ type: 'stats' })
      const { type: _type, ...stats } = await reply
      return stats
    },
    alive,
    async stop() {
      if (!alive()) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}
