import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis, type RedisServer } from './redis.js'

const run = promisify(execFile)

/** A Redis Cluster of our own on loopback: `masters` masters, each with `replicas` replicas. */
export interface RedisCluster {
  readonly nodes: RedisServer[]
  /** `{ url }` of every node, for `createCluster({ rootNodes })`. */
  readonly rootNodes: { url: string }[]
  stop(): Promise<void>
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 })
  return stdout
}

/** Polls (bounded) until every node reports `cluster_state:ok` and knows every other node. */
async function untilHealthy(nodes: RedisServer[], replicas: number, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs
  // Replicas attach after the cluster reports ok: wait for their links too, or the first WAITs time out.
  const linked = (i: string): boolean => i.includes('master_link_status:up') || i.includes(`connected_slaves:${replicas}`)
  for (;;) {
    const infos = await Promise.all(nodes.map((n) => cli(n.port, 'info').catch(() => '')))
    const clusters = await Promise.all(nodes.map((n) => cli(n.port, 'cluster', 'info').catch(() => '')))
    const ok = clusters.every((i) => i.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${nodes.length}`))
    if (ok && infos.every(linked)) return
    if (Date.now() > deadline) throw new Error(`cluster not healthy within ${deadlineMs} ms:\n${clusters.join('\n')}`)
    await sleep(100)
  }
}

export async function startRedisCluster({ masters = 3, replicas = 0 } = {}): Promise<RedisCluster> {
  const extra = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1']
  const nodes: RedisServer[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()))
  }
  try {
    for (let i = 0; i < masters * (1 + replicas); i++)
      nodes.push(await startRedis([...extra, '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0']))
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`)
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: 60_000,
    })
    await untilHealthy(nodes, replicas, 30_000)
  } catch (err) {
    await stop()
    throw err
  }
  return { nodes, rootNodes: nodes.map((n) => ({ url: n.url })), stop }
}

/** Redis-cli, for tests that look at a node (role, replication). */
export const redisCli = cli
