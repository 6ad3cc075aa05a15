import type { Topology } from './topology.js'

/**
 * How long the change log keeps an entry, in ms. A replicated instance that lost contact for longer
 * reloads the whole deny-list instead of reading the log, so `maxLagMs` may not exceed it.
 */
export const LOG_KEEP_MS = 60_000

// Moves a subject cut-off forward only: a late or retried older revokeSubject must not lift a newer one.
const RAISE_CUTOFF = `local c = tonumber(redis.call('GET', KEYS[1]))
if not c or c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 1`

export interface Keys {
  jti(jti: string): string
  sub(sub: string): string
  /** The change log (a stream) that replicated instances follow. */
  readonly log: string
}

export function keysOf(prefix: string): Keys {
  return { jti: (jti) => `${prefix}jti:${jti}`, sub: (sub) => `${prefix}sub:${sub}`, log: `${prefix}log` }
}

/** A change as the log carries it: a `jti` until `expiresMs`, or a subject cut-off `at`. */
export type Change = { kind: 'jti'; id: string; expiresMs: number } | { kind: 'sub'; id: string; at: number; expiresMs: number }

/**
 * Writes a change where it lives (the key), then appends it to the log; each step `WAIT`s for a replica
 * where there is one, so a failover neither loses the entry nor hides it from the log's readers.
 */
export async function writeChange(topology: Topology, keys: Keys, change: Change, waitMs: number): Promise<void> {
  if (change.kind === 'jti') {
    const key = keys.jti(change.id)
    const until = String(Math.ceil(change.expiresMs / 1000))
    await topology.durable(key, ['SET', key, until, 'EXAT', until], waitMs)
  } else {
    const key = keys.sub(change.id)
    const ttl = String(Math.ceil((change.expiresMs - Date.now()) / 1000))
    await topology.durable(key, ['EVAL', RAISE_CUTOFF, '1', key, String(change.at), ttl], waitMs)
  }
  const fields = change.kind === 'jti' ? ['t', 'j', 'i', change.id] : ['t', 's', 'i', change.id, 'v', String(change.at)]
  const args = ['XADD', keys.log, 'MINID', '~', String(Date.now() - LOG_KEEP_MS), '*', ...fields, 'e', String(change.expiresMs)]
  await topology.durable(keys.log, args, waitMs)
}

/** Parses one log entry's fields; anything malformed (a foreign writer) is skipped. */
export function parseChange(fields: unknown): Change | undefined {
  if (!Array.isArray(fields)) return undefined
  const f = new Map<unknown, unknown>()
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i], fields[i + 1])
  const id = f.get('i')
  const expiresMs = Number(f.get('e'))
  if (typeof id !== 'string' || id === '' || !Number.isFinite(expiresMs)) return undefined
  if (f.get('t') === 'j') return { kind: 'jti', id, expiresMs }
  const at = Number(f.get('v'))
  return f.get('t') === 's' && Number.isFinite(at) ? { kind: 'sub', id, at, expiresMs } : undefined
}
