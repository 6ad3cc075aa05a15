import type { KeyObject } from 'node:crypto'

/**
 * What a cached verification keeps of the key that verified it: one flag,
 * read on every cache hit. It is set once the key leaves its set (a refetch
 * or `guard.reload()` no longer holds it); the token is then judged afresh.
 */
export interface KeyLease {
  withdrawn: boolean
}

/** A key that may verify a token, with the lease of where it came from. */
export interface Candidate {
  readonly key: KeyObject
  readonly lease: KeyLease
}

/** The lease of keys that cannot leave (given in the options): never withdrawn. */
export const HELD: KeyLease = Object.freeze({ withdrawn: false })
