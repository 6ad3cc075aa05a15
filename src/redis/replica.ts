import { GuardError } from '../errors.js'
import { revocationKeys, revokedBySubject, type RevocationContext } from '../revocation/store.js'
import type { AuthInfo } from '../types.js'
import type { Deployment } from './deployment.js'
import { readMarkers } from './markers.js'
import { reasonOf, redisCall, type Topology } from './topology.js'
import { LOG_KEEP_MS, parseChange, type Change, type Keys } from './writes.js'
import { optionError } from '../option-error.js'

export interface ReplicaOptions {
  topology: Topology
  keys: Keys
  deployment: Deployment
  missingJti: 'refuse' | 'allow'
  failOpen: boolean
  timeout: number
  maxLagMs: number
}

export function checkReplicate(value: unknown): { maxLagMs: number } | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return { maxLagMs: 1000 }
  const maxLagMs = typeof value === 'object' && value !== null ? ((value as { maxLagMs?: unknown }).maxLagMs ?? 1000) : undefined
  if (typeof maxLagMs !== 'number' || !Number.isFinite(maxLagMs) || maxLagMs < 10 || maxLagMs > LOG_KEEP_MS)
    throw optionError('replicate', `must be true or { maxLagMs } (10 to ${LOG_KEEP_MS} ms)`, { of: 'redisRevocationStore' })
  return { maxLagMs }
}

/** Entries written per round trip when the deny-list is restored into an emptied Redis, or read on a full load. */
const BATCH = 1_000
/** Expired entries leave memory this often (ms). */
const SWEEP_MS = 10_000

/**
 * The deny-list held in memory and kept current from the change log (`XREAD` from the last entry seen,
 * every `maxLagMs / 4` or 50 ms at most): `isRevoked` makes no Redis call. The log is read from where
 * it was left, so a reconnect misses nothing; a gap longer than the log keeps means a full reload.
 */
export function replicatedStore(o: ReplicaOptions) {
  const { topology, keys, deployment, missingJti, failOpen, maxLagMs } = o
  const jtis = new Map<string, number>()
  const subjects = new Map<string, { at: number; expiresMs: number }>()
  let loaded = false
  // Whether this copy predates any wipe seen: only then may it be written back into an emptied Redis.
  let trusted = false
  let lastContact = 0
  let lastId = '0-0'
  let lastSweep = Date.now()
  let closed = false
  let timer: NodeJS.Timeout | undefined
  const pollMs = Math.min(50, maxLagMs / 4)

  const apply = (change: Change): void => {
    if (change.expiresMs <= Date.now()) return
    if (change.kind === 'jti') jtis.set(change.id, Math.max(change.expiresMs, jtis.get(change.id) ?? 0))
    else {
      const held = subjects.get(change.id)
      // A cut-off only moves forward, as in Redis.
      subjects.set(change.id, {
        at: Math.max(change.at, held?.at ?? -Infinity),
        expiresMs: Math.max(change.expiresMs, held?.expiresMs ?? 0),
      })
    }
  }

  const applyLog = (reply: unknown): void => {
    // RESP2: [[key, [[id, [field, value, ...]], ...]]], or null when nothing is new.
    if (!Array.isArray(reply)) return
    for (const [, entries] of reply as [unknown, unknown][]) {
      if (!Array.isArray(entries)) continue
      for (const [id, fields] of entries as [unknown, unknown][]) {
        if (typeof id === 'string') lastId = id
        const change = parseChange(fields)
        if (change) apply(change)
      }
    }
  }

  const escapeGlob = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&')

  /** Reads every entry from every shard; changes made meanwhile come from the log, read from before the scan. */
  const fullLoad = async (): Promise<void> => {
    await deployment.ensure()
    const last = (await topology.send(keys.log, ['XREVRANGE', keys.log, '+', '-', 'COUNT', '1'])) as [string, unknown][] | null
    const from = last?.[0]?.[0] ?? '0-0'
    jtis.clear()
    subjects.clear()
    const jtiPrefix = keys.jti('')
    const subPrefix = keys.sub('')
    for (const shard of await topology.shards()) {
      for (const prefix of [jtiPrefix, subPrefix]) {
        let cursor = '0'
        do {
          const [next, found] = (await shard.sendCommand(['SCAN', cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', String(BATCH)])) as [
            string,
            string[],
          ]
          cursor = next
          const now = Date.now()
          const replies = await Promise.all(
            found.map((key) => Promise.all([shard.sendCommand(['GET', key]), shard.sendCommand(['PTTL', key])])),
          )
          found.forEach((key, i) => {
            const [value, pttl] = replies[i]!
            if (typeof pttl !== 'number' || pttl <= 0) return
            const id = key.slice(prefix.length)
            if (prefix === jtiPrefix) apply({ kind: 'jti', id, expiresMs: now + pttl })
            else if (Number.isFinite(Number(value))) apply({ kind: 'sub', id, at: Number(value), expiresMs: now + pttl })
          })
        } while (cursor !== '0')
      }
    }
    lastId = from
  }

  /** Writes the deny-list held here back into an emptied Redis, then the markers: the fleet resumes. */
  const restore = (): Promise<void> =>
    deployment.restore(async () => {
      const writes: string[][] = []
      for (const [jti, expiresMs] of jtis) {
        const until = String(Math.ceil(expiresMs / 1000))
        writes.push(['SET', keys.jti(jti), until, 'EXAT', until])
      }
      for (const [sub, { at, expiresMs }] of subjects) writes.push(['SET', keys.sub(sub), String(at), 'PXAT', String(Math.ceil(expiresMs))])
      for (let i = 0; i < writes.length; i += BATCH)
        await Promise.all(writes.slice(i, i + BATCH).map((args) => topology.send(args[1]!, args)))
    })

  const sweep = (now: number): void => {
    lastSweep = now
    for (const [jti, expiresMs] of jtis) if (expiresMs <= now) jtis.delete(jti)
    for (const [sub, { expiresMs }] of subjects) if (expiresMs <= now) subjects.delete(sub)
  }

  const tick = async (): Promise<void> => {
    const sentAt = Date.now()
    try {
      if (!loaded || sentAt - lastContact > LOG_KEEP_MS / 2) await fullLoad()
      else {
        const [marks, log] = await redisCall(topology, Math.max(o.timeout, maxLagMs), () =>
          Promise.all([
            readMarkers(topology, deployment.markers.perShard()),
            topology.send(keys.log, ['XREAD', 'COUNT', String(10 * BATCH), 'STREAMS', keys.log, lastId]),
          ]),
        )
        applyLog(log)
        deployment.check(marks, trusted, deployment.wiped && !trusted ? await deployment.readAck() : undefined)
        if (deployment.wiped && trusted) await restore()
      }
      lastContact = sentAt
      loaded = true
      trusted = !deployment.wiped
    } catch (cause) {
      deployment.emit({ type: 'revocation_unavailable', reason: reasonOf(cause), failOpen })
    }
    if (sentAt - lastSweep > SWEEP_MS) sweep(sentAt)
  }

  const schedule = (): void => {
    if (closed) return
    timer = setTimeout(() => {
      void tick().then(schedule)
    }, pollMs)
    timer.unref()
  }
  void tick().then(schedule)

  return {
    async close() {
      closed = true
      clearTimeout(timer)
    },
    async isRevoked(auth: AuthInfo<unknown>, context?: RevocationContext) {
      deployment.listen(context?.emit)
      const ids = revocationKeys(auth, missingJti)
      const now = Date.now()
      if (!loaded || now - lastContact > maxLagMs || !trusted) {
        const reason = !loaded ? 'loading' : !trusted ? 'reset' : 'stale'
        context?.emit?.({ type: 'revocation_unavailable', reason, failOpen })
        // A wiped Redis is never read as "nothing is revoked", failOpen or not.
        if (failOpen && reason !== 'reset') return false
        throw new GuardError('ERR_REVOCATION_UNAVAILABLE', 'Revocation service unavailable', { reason })
      }
      if (ids.jti !== undefined && (jtis.get(ids.jti) ?? 0) > now) return true
      const subject = ids.sub === undefined ? undefined : subjects.get(ids.sub)
      return subject !== undefined && subject.expiresMs > now && revokedBySubject(subject.at, ids.iat)
    },
  }
}
