import { randomBytes, randomUUID } from 'node:crypto'
import { memoryDpopReplayStore, memoryRevocationStore } from 'jwtguard'

/**
 * One deny-list memory measurement, in a fresh process started with --expose-gc
 * by memory.ts: a store filled to its default `max` with unexpired entries shaped
 * as in production, heapUsed before and after (each after a full GC). Reports
 * over IPC.
 */

export type StoreKind = 'revocation jti' | 'revocation subject' | 'dpop replay'

export interface StoreRunInput {
  kind: StoreKind
}

export interface StoreRunOutput {
  kind: StoreKind
  entries: number
  heapGrowth: number
  rssGrowth: number
  seconds: number
}

/** The defaults the README's capacity math is about. */
const MAX: Record<StoreKind, number> = { 'revocation jti': 100_000, 'revocation subject': 100_000, 'dpop replay': 250_000 }

const { kind } = JSON.parse(process.argv[2]!) as StoreRunInput
const gc = (globalThis as { gc?: () => void }).gc
if (!gc || !process.send) throw new Error('memory-stores-run.ts is started by memory.ts (with --expose-gc and IPC)')

const entries = MAX[kind]
const exp = Math.floor(Date.now() / 1000) + 3600
/** A fresh RFC 7638 thumbprint-sized string, as each proof's `jkt` is computed anew. */
const jkt = (): string => randomBytes(32).toString('base64url')
/** A flat copy of a string, as `JSON.parse` makes it: concatenation (and `randomUUID`) builds a rope that costs more. */
const flat = (s: string): string => Buffer.from(s, 'latin1').toString('latin1')
const uuid = (): string => flat(randomUUID())

const revocation = memoryRevocationStore()
const replay = memoryDpopReplayStore()
const add: Record<StoreKind, (i: number) => Promise<unknown>> = {
  'revocation jti': () => revocation.revoke(uuid(), exp),
  'revocation subject': (i) => revocation.revokeSubject(flat(`auth0|${i.toString(16).padStart(24, '0')}`), exp),
  // The key the guard builds for a proof: `${jkt}:${jti}`, a UUID `jti` being the common choice.
  'dpop replay': () => replay.remember(`${jkt()}:${uuid()}`, 121),
}

const measure = (): NodeJS.MemoryUsage => {
  gc()
  return process.memoryUsage()
}
const before = measure()
const started = performance.now()
for (let i = 0; i < entries; i++) await add[kind](i)
const seconds = (performance.now() - started) / 1000
const after = measure()
// Full means full: one more is refused, none was dropped.
const refused = await add[kind](entries).then(
  () => false,
  () => true,
)
if (!refused) throw new Error(`${kind}: store took an entry past max`)
const output: StoreRunOutput = {
  kind,
  entries,
  heapGrowth: after.heapUsed - before.heapUsed,
  rssGrowth: after.rss - before.rss,
  seconds,
}
process.send(output, () => process.exit(0))
