import type { GuardEvent } from '../events.js'

/** What the decision service counts; rendered by `/metrics` in the Prometheus text format. */
export interface Metrics {
  /** One decision: `code` is `undefined` when the request may pass. */
  decided(status: number, code: string | undefined, seconds: number): void
  /** A token verified (from the cache or not): the denominator of the cache hit ratio. */
  verified(): void
  /** The guard's `onEvent`: JWKS fetches and failures, cache hits. */
  event(event: GuardEvent): void
  render(): Promise<string>
  readonly contentType: string
}

const outcomeOf = (status: number): string => (status < 300 ? 'allow' : status < 500 ? 'deny' : 'error')

/**
 * Metrics on a registry of their own, with `prom-client`, imported here only:
 * a library user who never runs `jwtguard serve` never loads it.
 */
export async function createMetrics(): Promise<Metrics> {
  const { Counter, Gauge, Histogram, Registry } = await import('prom-client')
  const registry = new Registry()
  const decisions = new Counter({
    name: 'jwtguard_decisions_total',
    help: 'Forward-auth decisions, by outcome (allow, deny, error) and error code (none when allowed).',
    labelNames: ['outcome', 'code'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'jwtguard_decision_duration_seconds',
    help: 'Time from request to decision.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  const fetches = new Counter({
    name: 'jwtguard_jwks_fetches_total',
    help: 'Key sets fetched, by source.',
    labelNames: ['source'] as const,
    registers: [registry],
  })
  const failures = new Counter({
    name: 'jwtguard_jwks_fetch_failures_total',
    help: 'Key set fetches that failed, by source and error code.',
    labelNames: ['source', 'code'] as const,
    registers: [registry],
  })
  const hits = new Counter({
    name: 'jwtguard_token_cache_hits_total',
    help: 'Tokens answered from the verified-token cache.',
    registers: [registry],
  })
  const verifications = new Counter({
    name: 'jwtguard_tokens_verified_total',
    help: 'Valid tokens seen, from the cache or not.',
    registers: [registry],
  })
  let hitCount = 0
  let verifiedCount = 0
  new Gauge({
    name: 'jwtguard_token_cache_hit_ratio',
    help: 'Share of valid tokens answered from the verified-token cache since start.',
    registers: [registry],
    collect() {
      this.set(verifiedCount === 0 ? 0 : Math.min(1, hitCount / verifiedCount))
    },
  })
  // One child per code, made once: the per-decision cost is an increment and a histogram bucket.
  const children = new Map<string, { inc(): void }>()
  return {
    decided(status, code, seconds) {
      const key = code ?? `${status}`
      let child = children.get(key)
      if (!child) children.set(key, (child = decisions.labels(outcomeOf(status), code ?? 'none')))
      child.inc()
      duration.observe(seconds)
    },
    verified() {
      verifiedCount++
      verifications.inc()
    },
    event(event) {
      if (event.type === 'cache_hit') {
        hitCount++
        hits.inc()
      } else if (event.type === 'jwks_fetched') fetches.labels(event.source).inc()
      else if (event.type === 'jwks_fetch_failed') failures.labels(event.source, event.code).inc()
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  }
}
