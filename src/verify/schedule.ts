import { verify as cryptoVerify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto'
import { cpus } from 'node:os'
import { dear, observe, poolShareOf, type Scheme } from './check-cost.js'
import { load, sample, SPARE_CORES } from './load.js'

/**
 * Where an asymmetric signature check runs: on the event loop (inline) or on
 * libuv's thread pool. Chosen per check from the load the process sees, per
 * algorithm, with nothing to tune (measured on the 2-core bench machine; see
 * docs/performance.md):
 *
 * - A lone check with nothing on the pool runs inline: handing it to an idle
 *   pool thread and hearing back costs more than an RSA check and doubles an
 *   ECDSA one's latency, and a serial caller has no second check to overlap
 *   it with. Where nothing could join it (nothing queued or on the pool, and
 *   it is the first to arrive in a quiet turn or a serial caller's next one),
 *   it is answered at once, synchronously (`checkAtOnce`): no promise, no
 *   tick (about 2 µs a serial RS256 check on the bench machine). Otherwise it
 *   runs right after the current microtasks (`process.nextTick`), together
 *   with the checks queued in the same tick.
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
/** A machine with one core has no spare one, however idle it looks between requests. */
const SHARES = cpus().length > 1
/** The pool is used only while the event loop is at least this busy: a loop with time to spare gains nothing from it. */
const LOOP_BUSY = 0.9

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
/** Checks answered by the last flush: a check set off by a lone one's answer is a serial caller's next. */
let lastBatch = 0
/** From a check answered at once to the end of its job: another check in the same job joins the queue. */
let atOnce = false
/** Checks on the pool not answered yet. */
let pooled = 0
/** The fraction of a check owed to the pool, carried from one check to the next. */
let owed = 0

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
const keyInput = ({ scheme, key }: Pick<Check, 'scheme' | 'key'>): KeyObject | VerifyKeyObjectInput =>
  scheme.key ? { key, ...scheme.key } : key

/** One-shot `crypto.verify`, as the floor does it: no `Verify` stream object per check. */
function verifyInline(check: Omit<Check, 'done'>): boolean {
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

/** After the job that got an answer at once: what its promises set off is a serial caller's next check. */
function answeredAtOnce(): void {
  atOnce = false
  answering = true
  soon(answered)
}

function markTurn(): void {
  if (turnMarked) return
  turnMarked = true
  nextTurn(endOfTurn)
}

/** What every flush does first: the load, the turn, and the size of this batch. */
function startFlush(size: number): number {
  const start = clock.now()
  sample(start)
  markTurn()
  lastBatch = size
  return start
}

function flush(): void {
  flushQueued = false
  const checks = queue
  queue = []
  const start = startFlush(checks.length)
  answering = true
  afterThisJob(answeredSoon)
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

/**
 * Nothing in this turn a check should wait for (see the rules above): nothing on the pool, requests not arriving
 * together (`arrivals` counts this check if it came in on its own), and budget left for inline checks. A queued
 * check then runs after the current microtasks; one that nothing could join is answered at once.
 */
const quietTurn = (arrivals: number): boolean => pooled === 0 && arrivals <= 1 && lastTurnArrivals <= 1 && turnSpentMs < TURN_BUDGET_MS

/**
 * A lone check answered synchronously, where nothing could join it (see the rules above); `undefined` when it
 * must be queued with `schedule`.
 */
export function checkAtOnce(check: Omit<Check, 'done'>): boolean | undefined {
  if (atOnce || queue.length > 0 || (answering && lastBatch > 1)) return undefined
  if (!quietTurn(answering ? turnArrivals : turnArrivals + 1)) return undefined
  if (!answering) turnArrivals++
  atOnce = true
  afterThisJob(answeredAtOnce)
  owed = 0
  const start = startFlush(1)
  const ok = verifyInline(check)
  const took = clock.now() - start
  observe(check.scheme, took)
  turnSpentMs += took
  return ok
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
  if (quietTurn(turnArrivals)) soon(flush)
  else nextTurn(flush)
}
