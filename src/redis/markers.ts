import { randomUUID } from 'node:crypto'
import { hashedPart, keySlot, slotTags } from './slot.js'
import type { Topology } from './topology.js'

/**
 * Marker keys that tell an emptied Redis (restart without persistence, FLUSHALL, failover to an empty replica)
 * from one that holds the deny-list. Each holds the deployment id; a marker missing or changed means the
 * data beside it was lost. On a Cluster there is one marker per slot, so a check reads the marker that
 * lives with the key it reads, and one marker per shard tells a wiped node.
 */
export interface Markers {
  /** The marker of the slot `key` lives in. */
  forKey(key: string): string
  /** One marker per shard, as the cluster is sharded now. */
  perShard(): string[]
  /** Every marker key. */
  all(): readonly string[]
}

export function markersOf(prefix: string, topology: Topology): Markers {
  const single = `${prefix}marker`
  // A prefix with its own {hash tag} puts every key in one slot: one marker serves them all.
  if (!topology.cluster || hashedPart(`${prefix}x`) !== `${prefix}x`) {
    const all = [single]
    return { forKey: () => single, perShard: () => all, all: () => all }
  }
  const keys = slotTags().map((tag) => `${prefix}marker:{${tag}}`)
  return {
    forKey: (key) => keys[keySlot(key)]!,
    perShard: () => topology.shardSlots().map((slot) => keys[slot]!),
    all: () => keys,
  }
}

/** What the markers say: the deployment id, and whether every marker holds it. */
export interface MarkerState {
  id: string | undefined
  intact: boolean
}

export async function readMarkers(topology: Topology, keys: readonly string[]): Promise<(string | null)[]> {
  return Promise.all(keys.map((key) => topology.send(key, ['GET', key]) as Promise<string | null>))
}

/**
 * Adopts the deployment id held in Redis, or seeds a new one when no marker exists at all (a new deployment:
 * it cannot be told from a wipe while no instance ran, which only persistence guards against).
 */
export async function establish(topology: Topology, markers: Markers): Promise<MarkerState> {
  const keys = markers.all()
  let values = await readMarkers(topology, keys)
  if (values.every((v) => v === null)) {
    // Two instances starting at once: the first marker decides, SET NX everywhere keeps the winner's id.
    await topology.send(keys[0]!, ['SET', keys[0]!, randomUUID(), 'NX'])
    const id = (await topology.send(keys[0]!, ['GET', keys[0]!])) as string | null
    if (id === null) return { id: undefined, intact: false }
    await Promise.all(keys.slice(1).map((key) => topology.send(key, ['SET', key, id, 'NX'])))
    values = await readMarkers(topology, keys)
  }
  const id = values.find((v): v is string => v !== null)
  return { id, intact: values.every((v) => v === id) }
}

/** Writes the deployment id into every marker: the operator's "this Redis holds the deny-list again". */
export async function seedMarkers(topology: Topology, markers: Markers, id: string): Promise<void> {
  await Promise.all(markers.all().map((key) => topology.send(key, ['SET', key, id])))
}

// Ends a restore on one marker: only if it still holds this restore's nonce (no wipe, no other restore since).
const FINISH = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0`

/**
 * Runs `write` (putting a deny-list back) between two marker states, so that a wipe during the restore is
 * not hidden: the markers hold a nonce while the entries are written (checks still refuse), then the id
 * where the nonce survived. Resolves whether every marker now holds the id.
 */
export async function restoreBetweenMarkers(
  topology: Topology,
  markers: Markers,
  id: string,
  write: () => Promise<void>,
): Promise<boolean> {
  const nonce = `restoring:${randomUUID()}`
  await seedMarkers(topology, markers, nonce)
  await write()
  const done = await Promise.all(markers.all().map((key) => topology.send(key, ['EVAL', FINISH, '1', key, nonce, id])))
  return done.every((n) => Number(n) === 1)
}
