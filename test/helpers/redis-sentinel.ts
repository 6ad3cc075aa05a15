import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { redisCli } from './redis-cluster.js'
import { ping, startRedis, type RedisServer } from './redis.js'
import { freePort } from './shared.js'

/** A master, a replica and three sentinels of our own on loopback ports, with short failover timings. */
export interface RedisSentinelSet {
  readonly name: string
  master: RedisServer
  replica: RedisServer
  /** `{ host, port }` of each sentinel, for `createSentinel({ name, sentinelRootNodes })`. */
  readonly sentinelRootNodes: { host: string; port: number }[]
  /** The port the sentinels name as master now. */
  masterPort(): Promise<number>
  stop(): Promise<void>
}

interface Sentinel {
  port: number
  stop(): Promise<void>
}

async function startSentinel(name: string, masterPort: number): Promise<Sentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'jwtguard-sentinel-'))
  const port = await freePort()
  const conf = join(dir, 'sentinel.conf')
  await writeFile(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      'sentinel announce-ip 127.0.0.1',
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  )
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
    await rm(dir, { recursive: true, force: true })
  }
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) return { port, stop }
    await sleep(50)
  }
  await stop()
  throw new Error(`sentinel on port ${port} did not answer PING`)
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await sleep(100)
  }
}

export async function startRedisSentinelSet(name = 'jwtguard'): Promise<RedisSentinelSet> {
  const master = await startRedis()
  const servers: { stop(): Promise<void> }[] = [master]
  const sentinels: Sentinel[] = []
  const stop = async (): Promise<void> => {
    await Promise.all([...servers, ...sentinels].map((s) => s.stop()))
  }
  try {
    const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port), '--replica-announce-ip', '127.0.0.1'])
    servers.push(replica)
    await until(
      'replica linked',
      async () => (await redisCli(replica.port, 'info', 'replication')).includes('master_link_status:up'),
      30_000,
    )
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(name, master.port))
    // Every sentinel knows the replica and the two other sentinels: a failover can be agreed.
    await until(
      'sentinels agreed',
      async () =>
        (
          await Promise.all(
            sentinels.map(async (s) => {
              const info = (await redisCli(s.port, 'sentinel', 'master', name)).split('\n')
              const field = (key: string): string | undefined => info[info.indexOf(key) + 1]
              return field('num-slaves') === '1' && field('num-other-sentinels') === '2'
            }),
          )
        ).every(Boolean),
      30_000,
    )
    return {
      name,
      master,
      replica,
      sentinelRootNodes: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      async masterPort() {
        const reply = await redisCli(sentinels[0]!.port, 'sentinel', 'get-master-addr-by-name', name)
        return Number(reply.trim().split('\n')[1])
      },
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
