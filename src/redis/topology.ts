/**
 * One view of the three client shapes of `redis` v5 (`createClient`, `createCluster`,
 * `createSentinel`): where a command goes, and how a write is made durable.
 */

/** What the stores need of a `redis` v5 client: raw commands. Standalone, Cluster and Sentinel clients all fit. */
export interface RedisLikeClient {
  sendCommand(...args: never[]): Promise<unknown>
  /** `false` while disconnected: checks then fail at once instead of queueing behind the outage. */
  readonly isReady?: boolean
}

type Args = string[]
interface Standalone {
  sendCommand(args: Args): Promise<unknown>
}
interface ClusterNode {
  id: string
  client?: unknown
}
interface Cluster {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: Args): Promise<unknown>
  readonly masters: ClusterNode[]
  readonly slots: { master: ClusterNode }[]
  nodeClient(node: ClusterNode): Promise<Standalone>
  /** node-redis' slot map; `rediscover` is what it runs itself on MOVED. */
  readonly _slots?: { rediscover(startWith: unknown): Promise<void> }
  on?(event: string, listener: () => void): unknown
}
interface Sentinel {
  sendCommand(isReadonly: boolean | undefined, args: Args): Promise<unknown>
  use<T>(fn: (client: { sendCommand(isReadonly: boolean | undefined, args: Args): Promise<unknown> }) => Promise<T>): Promise<T>
}

export interface Topology {
  readonly cluster: boolean
  /** Runs one command on the master that owns `key`. */
  send(key: string, args: Args): Promise<unknown>
  /** Runs a write on the master owning `key`, then (where that master has replicas) `WAIT`s until one holds it. */
  durable(key: string, args: Args, waitMs: number): Promise<unknown>
  /** One command runner per master (for SCAN and per-shard checks). */
  shards(): Promise<Standalone[]>
  /** Cluster only: the first slot each master owns now (one per shard). */
  shardSlots(): number[]
  ready(): boolean
  /** After a failed call: a cluster re-reads its topology (a failover moved a master). */
  recover(): void
}

/** A failed call re-reads the cluster topology at most this often (ms). */
const REDISCOVER_MS = 250

export class NotReplicatedError extends Error {
  constructor() {
    super('not_replicated')
  }
}

export function isClient(client: unknown): client is RedisLikeClient {
  return typeof (client as RedisLikeClient | undefined)?.sendCommand === 'function'
}

/** `ROLE` on a master: `['master', offset, [[host, port, offset], ...]]`. */
function replicaCount(role: unknown): number {
  return Array.isArray(role) && role[0] === 'master' && Array.isArray(role[2]) ? role[2].length : 0
}

/** SET (or any write), then WAIT 1 on the same connection when the master has a replica; a write no replica took fails. */
async function writeThenWait(run: (args: Args) => Promise<unknown>, args: Args, waitMs: number): Promise<unknown> {
  const [reply, role] = await Promise.all([run(args), run(['ROLE'])])
  if (replicaCount(role) > 0 && Number(await run(['WAIT', '1', String(Math.ceil(waitMs))])) < 1) throw new NotReplicatedError()
  return reply
}

/** One view per client: the stores of one client share it (and a cluster's one watch on its nodes). */
const views = new WeakMap<object, Topology>()

export function topologyOf(client: RedisLikeClient): Topology {
  let view = views.get(client)
  if (view === undefined) views.set(client, (view = viewOf(client)))
  return view
}

function viewOf(client: RedisLikeClient): Topology {
  const ready = (): boolean => client.isReady !== false
  const any = client as unknown as Record<string, unknown>
  if (typeof any.nodeClient === 'function' && Array.isArray(any.masters)) {
    const cluster = client as unknown as Cluster
    let rediscovered = 0
    const recover = (): void => {
      const now = Date.now()
      const live = cluster.masters.find((m) => (m.client as { isReady?: boolean } | undefined)?.isReady === true)
      const start = (live ?? cluster.masters.find((m) => m.client !== undefined))?.client
      if (now - rediscovered < REDISCOVER_MS || !cluster._slots || start === undefined) return
      rediscovered = now
      cluster._slots.rediscover(start).catch(() => {})
    }
    // A node that lost its connection may be a dead master: re-read the map while it is gone, so a client that
    // made no call during a failover does not keep sending its slots' commands to the dead node afterwards.
    if (typeof cluster.on === 'function') {
      cluster.on('node-reconnecting', recover)
      cluster.on('node-error', recover)
    }
    return {
      cluster: true,
      ready,
      // node-redis rediscovers on MOVED only: after a master dies, calls to its slots would time out forever.
      recover,
      send: (key, args) => cluster.sendCommand(key, false, args),
      durable: (key, args, waitMs) => writeThenWait((a) => cluster.sendCommand(key, false, a), args, waitMs),
      shards: () => Promise.all(cluster.masters.map((m) => cluster.nodeClient(m))),
      shardSlots() {
        const seen = new Set<string>()
        const first: number[] = []
        cluster.slots.forEach((shard, slot) => {
          if (shard && !seen.has(shard.master.id)) {
            seen.add(shard.master.id)
            first.push(slot)
          }
        })
        return first
      },
    }
  }
  if (typeof any.use === 'function' && typeof any.getMasterNode === 'function') {
    const sentinel = client as unknown as Sentinel
    const standalone: Standalone = { sendCommand: (args) => sentinel.sendCommand(false, args) }
    return {
      cluster: false,
      ready,
      send: (_key, args) => sentinel.sendCommand(false, args),
      // A leased connection: WAIT counts the writes of its own connection only.
      durable: (_key, args, waitMs) => sentinel.use((leased) => writeThenWait((a) => leased.sendCommand(false, a), args, waitMs)),
      shards: async () => [standalone],
      shardSlots: () => [],
      recover() {},
    }
  }
  const standalone = client as unknown as Standalone
  return {
    cluster: false,
    ready,
    send: (_key, args) => standalone.sendCommand(args),
    durable: (_key, args, waitMs) => writeThenWait((a) => standalone.sendCommand(a), args, waitMs),
    shards: async () => [standalone],
    shardSlots: () => [],
    recover() {},
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms)
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}

/**
 * One Redis call within `ms`. Redis queues commands while disconnected; failing at once instead keeps that
 * queue from growing with every request of an outage (and from replaying stale checks when Redis returns).
 */
export function redisCall<T>(topology: Pick<Topology, 'ready' | 'recover' | 'cluster'>, ms: number, work: () => Promise<T>): Promise<T> {
  if (!topology.ready()) return Promise.reject(new Error('not_connected'))
  const call = withDeadline(work(), ms)
  return topology.cluster ? call.catch((err: unknown) => (topology.recover(), Promise.reject(err))) : call
}

export const reasonOf = (cause: unknown): string => (cause instanceof Error ? cause.message : 'error')
