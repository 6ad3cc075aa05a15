/**
 * A bounded map for deny-lists: each entry lives until its own expiry and is
 * never dropped before it (an LRU that evicts a live entry lets a revoked token
 * or a replayed proof back in). When it holds `max` live entries, a new key is
 * refused and the caller fails closed.
 *
 * Expired entries are purged in expiry order from a binary min-heap of
 * `(until, key)` nodes: each insert pops only what has expired, amortised
 * O(log n), never a scan of the whole map. Extending an entry leaves its old
 * node in the heap as stale; stale nodes are skipped when popped and the heap
 * is rebuilt once they outnumber `max`, so it never holds more than
 * `2 × max + 1` nodes.
 */
export class ExpiringMap<V> {
  readonly max: number
  readonly #entries = new Map<string, { value: V; until: number }>()
  // Parallel arrays: `#untils` stays an array of unboxed doubles.
  #untils: number[] = []
  #keys: string[] = []

  constructor(max: number) {
    this.max = max
  }

  /** The value of `key` if it has not expired at `now` (ms). */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key)
    return entry !== undefined && entry.until > now ? entry.value : undefined
  }

  /**
   * Holds `value` for `key` until at least `until` (ms; an entry is never
   * shortened). Returns `false`, changing nothing, when `key` is new and the
   * map holds `max` live entries.
   */
  set(key: string, value: V, until: number, now: number): boolean {
    this.purge(now)
    const entry = this.#entries.get(key)
    if (entry !== undefined) {
      entry.value = value
      if (until > entry.until) {
        entry.until = until
        this.#push(until, key)
      }
      return true
    }
    if (this.#entries.size >= this.max) return false
    this.#entries.set(key, { value, until })
    this.#push(until, key)
    return true
  }

  /** Drops every entry expired at `now` (ms), earliest first, and nothing else. */
  purge(now: number): void {
    while (this.#untils.length > 0 && this.#untils[0]! <= now) {
      const until = this.#untils[0]!
      const key = this.#keys[0]!
      this.#pop()
      // A stale node (the entry was extended since) leaves the entry alone.
      if (this.#entries.get(key)?.until === until) this.#entries.delete(key)
    }
  }

  /** Entries held, live or expired but not yet purged. */
  get size(): number {
    return this.#entries.size
  }

  /** Nodes in the expiry heap, stale ones included: at most `2 × max + 1`. */
  get pending(): number {
    return this.#untils.length
  }

  #push(until: number, key: string): void {
    if (this.#untils.length > 2 * this.max) this.#rebuild()
    let i = this.#untils.length
    this.#untils.push(until)
    this.#keys.push(key)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.#untils[parent]! <= until) break
      this.#move(parent, i)
      i = parent
    }
    this.#untils[i] = until
    this.#keys[i] = key
  }

  #pop(): void {
    const until = this.#untils.pop()!
    const key = this.#keys.pop()!
    if (this.#untils.length > 0) this.#siftDown(0, until, key)
  }

  /** Places `(until, key)` at `i` or below, moving smaller children up. */
  #siftDown(start: number, until: number, key: string): void {
    const n = this.#untils.length
    let i = start
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      if (child + 1 < n && this.#untils[child + 1]! < this.#untils[child]!) child++
      if (this.#untils[child]! >= until) break
      this.#move(child, i)
      i = child
    }
    this.#untils[i] = until
    this.#keys[i] = key
  }

  #move(from: number, to: number): void {
    this.#untils[to] = this.#untils[from]!
    this.#keys[to] = this.#keys[from]!
  }

  /** One node per live entry, heapified in O(n): drops the stale nodes. */
  #rebuild(): void {
    this.#untils = []
    this.#keys = []
    for (const [key, { until }] of this.#entries) {
      this.#untils.push(until)
      this.#keys.push(key)
    }
    for (let i = (this.#untils.length >> 1) - 1; i >= 0; i--) this.#siftDown(i, this.#untils[i]!, this.#keys[i]!)
  }
}
