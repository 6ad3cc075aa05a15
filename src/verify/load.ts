import { cpus } from 'node:os'

/**
 * The load the signature scheduler (schedule.ts) sees: the machine's idle
 * cores, the event loop's busy time, and the share of overlapping RSA checks
 * it hands to the thread pool, sampled every `SAMPLE_MS` as checks come.
 */

/** How often the machine's idle cores and the event loop's busy time are sampled. */
const SAMPLE_MS = 100
/** The pool is used only while at least this much of a core is idle (counting what our own pool checks take of it). */
export const SPARE_CORES = 0.5
/** Below this event-loop utilization while checks are on the pool, the loop is waiting for the pool. */
const LOOP_WAITS = 0.85
const SHARE_STEP = 0.1

/** Taken at load, as in schedule.ts: a test's fake `performance` has no `eventLoopUtilization`. */
const clock = performance

export const load = {
  at: 0,
  idle: 0,
  total: 0,
  elu: clock.eventLoopUtilization(),
  /** Checks handed to the pool, and their pool time (estimated from inline checks), since the last sample. */
  pooledChecks: 0,
  pooledMs: 0,
  /** Cores the pool may use: idle ones, and those our own pool checks take; never the event loop's. Optimistic until measured. */
  spare: Math.max(0, cpus().length - 1),
  /** The fraction of overlapping checks handed to the pool; follows the load (see `sample`). */
  share: 0.5,
  /** The event loop's utilization over the last sample; optimistic until measured. */
  busy: 1,
}

/**
 * Every `SAMPLE_MS`: the cores the pool may use, and the share. While the
 * event loop stays busy and a core is still idle, the share grows; while the
 * loop waits (idle time with checks on the pool: it hands over more than the
 * pool answers), it shrinks. Both the pool and the loop then work.
 */
export function sample(now: number): void {
  if (now - load.at < SAMPLE_MS) return
  const all = cpus()
  let idle = 0
  let total = 0
  for (const { times } of all) {
    idle += times.idle
    total += times.user + times.nice + times.sys + times.idle + times.irq
  }
  const elu = clock.eventLoopUtilization()
  if (load.at > 0 && total > load.total) {
    const idleCores = ((idle - load.idle) / (total - load.total)) * all.length
    load.spare = Math.min(all.length - 1, idleCores + load.pooledMs / (now - load.at))
    const busy = clock.eventLoopUtilization(elu, load.elu).utilization
    load.busy = busy
    if (load.pooledChecks > 0) {
      if (busy < LOOP_WAITS) load.share = Math.max(SHARE_STEP, load.share - SHARE_STEP)
      else if (idleCores >= SPARE_CORES) load.share = Math.min(1 - SHARE_STEP, load.share + SHARE_STEP)
    }
  }
  Object.assign(load, { at: now, idle, total, elu, pooledChecks: 0, pooledMs: 0 })
}
