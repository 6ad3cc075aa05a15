import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './shared.js'

/** A redis-server of our own on a free loopback port, with no persistence. */
export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Kills the server (SIGKILL, as a crash would) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts a fresh (empty) server again on the same port, so clients can reconnect. */
  restart(): Promise<void>
}

const PING_ATTEMPTS = 100
const PING_INTERVAL_MS = 50

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/**
 * Whether the Redis tests can run. In CI a missing redis-server is an error
 * (`.ci/run` installs it), never a silent skip; locally the tests are skipped
 * with a note saying how to install it.
 */
export function redisServerAvailable(): boolean {
  if (onPath('redis-server')) return true
  if (process.env.CI) throw new Error('redis-server is not on PATH: CI must install it (see .ci/run)')
  console.warn(
    'Skipping the Redis revocation tests: redis-server is not on PATH. Install it (Debian/Ubuntu: apt-get install redis-server).',
  )
  return false
}

/** One PING over a raw socket: true when the server answers +PONG. */
export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

interface Running {
  child: ChildProcess
  exited: Promise<void>
  dir: string
}

async function spawnRedis(port: number, extra: string[] = []): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'jwtguard-redis-'))
  const args = [...extra, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  let alive = true
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      alive = false
      resolve()
    }),
  )
  for (let i = 0; i < PING_ATTEMPTS && alive; i++) {
    if (await ping(port)) return { child, exited, dir }
    await sleep(PING_INTERVAL_MS)
  }
  child.kill('SIGKILL')
  await exited
  await rm(dir, { recursive: true, force: true })
  throw new Error(`redis-server on port ${port} did not answer PING:\n${output.slice(-2000)}`)
}

async function kill(running: Running): Promise<void> {
  if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL')
  await running.exited
  await rm(running.dir, { recursive: true, force: true })
}

/** Starts redis-server on a free port of 127.0.0.1 (`extra`: more arguments); call `stop()` in afterAll. */
export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  // Another process may take the port between our probe and redis' bind: try a few.
  let port = 0
  let running: Running | undefined
  for (let attempt = 0; attempt < 3 && !running; attempt++) {
    port = await freePort()
    running = await spawnRedis(port, extra).catch((err: unknown) => {
      if (attempt === 2) throw err
      return undefined
    })
  }
  let current: Running | undefined = running
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (current) await kill(current)
      current = undefined
    },
    async restart() {
      if (current) await kill(current)
      current = await spawnRedis(port, extra)
    },
  }
}
