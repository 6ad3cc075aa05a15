import type { EventSink, GuardEvent } from '../events.js'
import { establish, restoreBetweenMarkers, seedMarkers, type Markers } from './markers.js'
import type { Topology } from './topology.js'

/**
 * What an instance knows of the Redis deployment it reads: the deployment id in the markers, and whether
 * the markers showed a wipe. A wipe is sticky: it ends when the markers hold this instance's id again
 * (a replicated instance restored the deny-list, or an operator called `acknowledgeReset()`).
 */
export class Deployment {
  id: string | undefined
  /** True from a detected wipe until the markers are whole again. */
  wiped = false
  private starting: Promise<string> | undefined
  /** The guards' event sinks seen so far (one per guard): a wipe found off-request is reported to them. */
  private readonly sinks = new Set<EventSink>()

  constructor(
    private readonly topology: Topology,
    readonly markers: Markers,
    private readonly ackKey: string,
  ) {}

  listen(sink: EventSink | undefined): void {
    if (sink !== undefined) this.sinks.add(sink)
  }

  emit(event: GuardEvent): void {
    for (const sink of this.sinks) sink(event)
  }

  /** The deployment id, read (or seeded) once; a failed attempt is retried on the next call. */
  ensure(): Promise<string> {
    if (this.id !== undefined) return Promise.resolve(this.id)
    this.starting ??= establish(this.topology, this.markers)
      .then((state) => {
        if (state.id === undefined) throw new Error('no_marker')
        this.id = state.id
        if (!state.intact) this.markWiped(false)
        return state.id
      })
      .finally(() => (this.starting = undefined))
    return this.starting
  }

  /**
   * Whether marker replies hold our id; the first mismatch is reported once. `ack` (read only after a
   * wipe) is the id an operator or a restoring instance declared whole: markers holding it end the wipe.
   */
  check(values: readonly unknown[], restored = false, ack?: unknown): boolean {
    if (values.every((v) => v === this.id)) {
      this.wiped = false
      return true
    }
    if (this.wiped && typeof ack === 'string' && values.every((v) => v === ack)) {
      this.id = ack
      this.wiped = false
      return true
    }
    this.markWiped(restored)
    return false
  }

  /** The acknowledged id, read while wiped. */
  readAck(): Promise<unknown> {
    return this.topology.send(this.ackKey, ['GET', this.ackKey])
  }

  markWiped(restored: boolean): void {
    if (this.wiped) return
    this.wiped = true
    this.emit({ type: 'revocation_store_reset', restored })
  }

  /**
   * Declares Redis whole again (after the operator re-issued the revocations, or a replicated instance
   * wrote its deny-list back): this instance's id in every marker and in the acknowledgement, which the
   * other instances adopt. A fresh instance seeding an empty Redis writes no acknowledgement, so the
   * instances that saw the wipe keep refusing.
   */
  async acknowledge(): Promise<void> {
    const id = await this.ensure()
    await seedMarkers(this.topology, this.markers, id)
    await this.topology.send(this.ackKey, ['SET', this.ackKey, id])
    this.wiped = false
  }

  /** Puts a deny-list back (`write`), then declares Redis whole, unless it was wiped again meanwhile. */
  async restore(write: () => Promise<void>): Promise<void> {
    const id = await this.ensure()
    if (!(await restoreBetweenMarkers(this.topology, this.markers, id, write))) throw new Error('wiped_during_restore')
    await this.topology.send(this.ackKey, ['SET', this.ackKey, id])
    this.wiped = false
  }
}
