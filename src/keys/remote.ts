import { GuardError } from '../errors.js'
import type { EventSink } from '../events.js'
import { discoverJwksUri } from './discovery.js'
import { fetchJson } from './fetch.js'
import { KeySet } from './jwk.js'
import type { Candidate } from './lease.js'

export interface RemoteSettings {
  cacheMaxAge: number
  cooldownDuration: number
  timeoutDuration: number
  staleIfError: number
  maxResponseSize: number
}

export const DEFAULT_REMOTE_SETTINGS: RemoteSettings = {
  cacheMaxAge: 10 * 60_000,
  cooldownDuration: 30_000,
  timeoutDuration: 5_000,
  staleIfError: 10 * 60_000,
  maxResponseSize: 512 * 1024,
}

const ACCEPT = 'application/jwk-set+json, application/json'

/** Where a remote set comes from: a fixed `jwksUri`, or an issuer to discover it from. */
export type RemoteSource = { jwksUri: string } | { issuer: string }

/**
 * A remote JWKS that keeps an API up:
 * - one fetch at a time, shared by every waiting request (single-flight);
 * - an unknown `kid` causes at most one refetch per `cooldownDuration`;
 * - while the source fails, at most one attempt per `cooldownDuration` (back-off);
 * - a failed refresh keeps the held keys for `staleIfError` past their age;
 * - with no key held, failures are 503-class `GuardError`s, never a 401.
 */
export class RemoteKeySet {
  private keys: KeySet | undefined
  private fetchedAt = 0
  private lastAttempt = Number.NEGATIVE_INFINITY
  private lastError: GuardError | undefined
  private pending: Promise<void> | undefined
  private jwksUri: string | undefined
  private readonly label: string

  constructor(
    private readonly source: RemoteSource,
    private readonly settings: RemoteSettings,
    private readonly emit: EventSink | undefined,
  ) {
    this.jwksUri = 'jwksUri' in source ? source.jwksUri : undefined
    this.label = 'jwksUri' in source ? source.jwksUri : source.issuer
  }

  /** Keys that may verify a token with this `alg` and `kid`; synchronous while fresh keys hold the `kid`. */
  candidates(alg: string, kid: string | undefined): Candidate[] | Promise<Candidate[]> {
    if (this.fresh()) {
      const found = this.keys!.candidates(alg, kid)
      if (found.length > 0 || kid === undefined) return found
    }
    return this.candidatesAfterFetch(alg, kid)
  }

  private async candidatesAfterFetch(alg: string, kid: string | undefined): Promise<Candidate[]> {
    await this.ensureUsable()
    const held = this.keys!
    let found = held.candidates(alg, kid)
    if (found.length > 0 || kid === undefined) return found
    if (this.pending) {
      await this.pending.catch(() => {})
    } else if (Date.now() - this.lastAttempt >= this.settings.cooldownDuration) {
      await this.refresh().catch(() => {})
    } else {
      this.emit?.({ type: 'jwks_cooldown', source: this.label, reason: 'unknown_kid' })
    }
    found = this.keys!.candidates(alg, kid)
    // A new kid while the source is failing may be a rotation we cannot see yet: 503, not 401.
    if (found.length === 0 && this.lastError) throw this.unavailable()
    return found
  }

  /** Epoch ms until which the held keys may be used (fresh, or stale-if-error while the source fails). */
  validUntil(): number {
    return this.fetchedAt + this.settings.cacheMaxAge + (this.lastError ? this.settings.staleIfError : 0)
  }

  private unavailable(): GuardError {
    const err = this.lastError
    // A fresh error per request: a shared instance would collect one request's headers for another.
    return new GuardError(err?.code ?? 'ERR_JWKS_UNAVAILABLE', 'Key source unavailable', { ...err?.context }, { cause: err?.cause })
  }

  /** The `kid`s currently held (for explanations and diagnostics). */
  kids(): string[] {
    return this.keys?.kids() ?? []
  }

  /** Makes sure usable keys are held (fetching if needed); rejects with the 503-class error otherwise. */
  warm(): Promise<void> {
    return this.ensureUsable()
  }

  /** Fetches now unless a fetch is already running; resolves when keys are held. */
  async reload(): Promise<void> {
    await this.refresh()
  }

  /** Keys are held and younger than `cacheMaxAge`. */
  private fresh(): boolean {
    return this.keys !== undefined && Date.now() - this.fetchedAt < this.settings.cacheMaxAge
  }

  private async ensureUsable(): Promise<void> {
    const now = Date.now()
    if (this.fresh()) return
    if (this.pending) {
      await this.pending.catch(() => {})
    } else if (this.lastError && now - this.lastAttempt < this.settings.cooldownDuration) {
      this.emit?.({ type: 'jwks_cooldown', source: this.label, reason: 'backoff' })
    } else {
      await this.refresh().catch(() => {})
    }
    if (this.fresh()) return
    if (this.keys && Date.now() - this.fetchedAt < this.settings.cacheMaxAge + this.settings.staleIfError) {
      this.emit?.({ type: 'jwks_stale_served', source: this.label, ageMs: Date.now() - this.fetchedAt })
      return
    }
    throw this.unavailable()
  }

  private refresh(): Promise<void> {
    this.pending ??= this.load().finally(() => {
      this.pending = undefined
    })
    return this.pending
  }

  private async load(): Promise<void> {
    const started = Date.now()
    this.lastAttempt = started
    const limits = { deadline: started + this.settings.timeoutDuration, maxBytes: this.settings.maxResponseSize }
    try {
      if ('issuer' in this.source) {
        // Rediscover with every refresh; if discovery fails, a jwks_uri found before still serves.
        try {
          const uri = await discoverJwksUri(this.source.issuer, limits)
          if (uri !== this.jwksUri)
            this.emit?.({ type: 'discovery_fetched', issuer: this.source.issuer, jwksUri: uri, durationMs: Date.now() - started })
          this.jwksUri = uri
        } catch (err) {
          if (!this.jwksUri) throw err
          const reason = err instanceof GuardError ? String(err.context.reason ?? 'unknown') : 'unexpected'
          this.emit?.({ type: 'discovery_failed', issuer: this.source.issuer, reason })
        }
      }
      const doc = await fetchJson(this.jwksUri!, ACCEPT, limits)
      // Keys the held set has and this one lacks are withdrawn here: cached tokens they verified are judged afresh.
      const set = KeySet.from(doc, (kid, reason) => this.emit?.({ type: 'jwks_key_dropped', source: this.label, kid, reason }), this.keys)
      if (!set) throw new GuardError('ERR_JWKS_INVALID', 'Key source unavailable', { reason: 'not_a_jwks' })
      this.keys = set
      this.fetchedAt = Date.now()
      this.lastError = undefined
      this.emit?.({ type: 'jwks_fetched', source: this.label, durationMs: Date.now() - started, keyCount: set.size })
    } catch (err) {
      const error =
        err instanceof GuardError
          ? err
          : new GuardError('ERR_JWKS_UNAVAILABLE', 'Key source unavailable', { reason: 'unexpected' }, { cause: err })
      this.lastError = error
      this.emit?.({
        type: 'jwks_fetch_failed',
        source: this.label,
        durationMs: Date.now() - started,
        reason: String(error.context.reason ?? 'unknown'),
        code: error.code,
      })
      throw error
    }
  }
}
