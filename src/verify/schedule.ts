import { verify as cryptoVerify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto'
import { cpus } from 'node:os'
import { dear, observe, poolShareOf, type Scheme } from './check-cost.js'

/**
 * Where an asymmetric signature check runs: on the event loop (inline) or on
 * libuv's thread pool. Chosen per check from the load the process sees, per
 * algorithm, with nothing to tune (measured on the 2-core bench machine; see
 * docs/performance.md):
 *
 * - A check runs right after the current microtasks (`process.nextTick`),
 *   together with the checks queued in the same tick. A lone check with
 *   nothing on the pool runs inline: handing it to an idle pool thread and
 *   hearing back costs more than an RSA check and doubles an ECDSA one's
 *   latency, and a serial caller has no second check to overlap it with.
 * - When checks overlap (several in one tick, or some still on the pool) on
 *   a machine with more than one core, those whose check costs ten hand-offs
 *   or more (ECDSA, EdDSA) all go to the pool. Of cheaper ones (RSA) a share
 *   goes there first, only while the event loop is saturated and a core is
 *   idle, at most 60% (see `check-cost.ts`): the share grows while the loop
 *   stays busy and a core is still idle, and shrinks while the loop waits.
 * - Checks wait for the end of the turn (the check phase, `setImmediate`) and
 *   run together while checks are on the pool (the pool's answers come in
 *   first, and all are shared out together), and while requests arrive
 *   together: more than one check in this turn or the last came in on its
 *   own, not from the promises an answer of ours set off (a serial caller's
 *   next check is such a descendant; each request's check arrives on its
 *   own). Their handlers then answer in one burst, with fewer wake-ups and
 *   system calls (in the HTTP bench, Koa's server spent about 45% less CPU per
 *   request than answering each check as it came).
 * - A turn spends at most `TURN_BUDGET_MS` on inline checks: the rest of a
 *   flood goes to the pool, and a lone check waits for the next turn, so the
 *   event loop is never held longer than the budget plus one check.
 */

export type { Scheme }

export interface Check {
  scheme: Scheme
  data: Buffer
  signature: Buffer
  key: KeyObject
  done: (ok: boolean) => void
}

/** Event-loop time one turn may spend on inline checks. */
const TURN_BUDGET_MS = 2
/** How often the machine's idle cores and the event loop's busy time are sampled. */
const SAMPLE_MS = 100
/** The pool is used only while at least this much of a core is idle (counting what our own pool checks take of it). */
const SPARE_CORES = 0.5
/** A machine with one core has no spare one, however idle it looks between requests. */
const SHARES = cpus().length > 1
/** Below this event-loop utilization while checks are on the pool, the loop is waiting for the pool. */
const LOOP_WAITS = 0.85
/** The pool is used only while the event loop is at least this busy: a loop with time to spare gains nothing from it. */
const LOOP_BUSY = 0.9
const SHARE_STEP = 0.1

/**
 * Taken at load: test code that fakes the timers later (jest, vitest) cannot stall verification. `performance` too:
 * the fake one's `eventLoopUtilization` returns nothing, and its `now` stands still or jumps as the test moves the clock.
 */
const clock = performance
const nextTurn = setImmediate
const soon = process.nextTick
const afterThisJob = queueMicrotask

let queue: Check[] = []
let flushQueued = false
let turnMarked = false
/** Inline ms spent in this turn of the event loop. */
let turnSpentMs = 0
/** Checks that came in on their own (not set off by one of our answers) in this turn and the last. */
let turnArrivals = 0
let lastTurnArrivals = 0
/** From a flush until the promises its answers set off have all run. */
let answering = false
/** Checks on the pool not answered yet. */
let pooled = 0
/** The fraction of a check owed to the pool, carried from one check to the next. */
let owed = 0

const load = {
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
function sample(now: number): void {
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

const poolShare = (scheme: Scheme): number => poolShareOf(scheme, load.spare, load.share)

function pool(check: Check): void {
  pooled++
  load.pooledChecks++
  load.pooledMs += check.scheme.cost
  const answer = (err: Error | null, ok: boolean): void => {
    pooled--
    check.done(!err && ok)
  }
  try {
    cryptoVerify(check.scheme.hash, check.data, keyInput(check), check.signature, answer)
  } catch {
    answer(null, false) // a key that does not fit the algorithm verifies nothing
  }
}

/** The key as `node:crypto` takes it for this scheme: with PSS padding or IEEE P1363 signatures where needed. */
const keyInput = ({ scheme, key }: Check): KeyObject | VerifyKeyObjectInput => (scheme.key ? { key, ...scheme.key } : key)

/** One-shot `crypto.verify`, as the floor does it: no `Verify` stream object per check. */
function verifyInline(check: Check): boolean {
  try {
    return cryptoVerify(check.scheme.hash, check.data, keyInput(check), check.signature)
  } catch {
    return false // a key that does not fit the algorithm verifies nothing
  }
}

function endOfTurn(): void {
  turnSpentMs = 0
  lastTurnArrivals = turnArrivals
  turnArrivals = 0
  turnMarked = false
}

function answered(): void {
  answering = false
}

/** A tick queued from a microtask runs once the microtask queue is empty: after every promise our answers set off. */
function answeredSoon(): void {
  soon(answered)
}

function markTurn(): void {
  if (turnMarked) return
  turnMarked = true
  nextTurn(endOfTurn)
}

function flush(): void {
  flushQueued = false
  const checks = queue
  queue = []
  const start = clock.now()
  sample(start)
  answering = true
  afterThisJob(answeredSoon)
  markTurn()
  // A lone check with nothing else going on stays inline: the pool only pays where checks overlap.
  // Checks overlap when several are in this batch or some are on the pool (whose answers come in one by one).
  const overlap = SHARES && (checks.length > 1 || pooled > 0)
  const sharing = overlap && load.busy >= LOOP_BUSY && load.spare >= SPARE_CORES
  const inline: Check[] = []
  for (const check of checks) {
    // A dear check's share is 1 whenever checks overlap; a cheaper one's only while the loop is saturated (`sharing`).
    owed += (dear(check.scheme) ? overlap : sharing) ? poolShare(check.scheme) : 0
    if (owed >= 1) {
      owed -= 1
      pool(check)
    } else inline.push(check)
  }
  if (!sharing) owed = 0
  let now = start
  let i = 0
  while (i < inline.length && turnSpentMs + (now - start) < TURN_BUDGET_MS) {
    const check = inline[i++]!
    const ok = verifyInline(check)
    const after = clock.now()
    observe(check.scheme, after - now)
    now = after
    check.done(ok)
  }
  turnSpentMs += now - start
  if (i === inline.length) return
  // Over the turn's budget: a flood goes to the pool; a lone check waits for the next turn.
  if (inline.length - i === 1 && checks.length === 1) return submitAfter(inline[i]!)
  while (i < inline.length) pool(inline[i++]!)
}

function submitAfter(check: Check): void {
  queue.push(check)
  if (!flushQueued) {
    flushQueued = true
    nextTurn(flush)
  }
}

/** Queues an asymmetric check; `done` is called once, from a later tick, turn or the pool. */
export function schedule(check: Check): void {
  if (!answering) {
    turnArrivals++
    markTurn()
  }
  queue.push(check)
  if (flushQueued) return
  flushQueued = true
  if (pooled > 0 || turnArrivals > 1 || lastTurnArrivals > 1 || turnSpentMs >= TURN_BUDGET_MS) nextTurn(flush)
  else soon(flush)
}
