import type { Metric } from 'prom-client'
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

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

const outcomeOf = (status: number): string => (status < 300 ? 'allow' : status < 500 ? 'deny' : 'error')

/**
 * The latency histogram, bucketed here with plain numbers and handed to the
 * registry in prom-client's metric shape at scrape time: prom-client's own
 * `observe` allocates per call, and this runs on every request.
 */
function latencyHistogram(name: string, help: string) {
  const counts = new Float64Array(BUCKETS.length + 1)
  let sum = 0
  let count = 0
  const metric = {
    name,
    help,
    get: async () => {
      let cumulative = 0
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = BUCKETS.map((le, i) => {
        cumulative += counts[i]!
        return { labels: { le }, value: cumulative, metricName: `${name}_bucket` }
      })
      values.push(
        { labels: { le: '+Inf' }, value: count, metricName: `${name}_bucket` },
        { labels: {}, value: sum, metricName: `${name}_sum` },
        { labels: {}, value: count, metricName: `${name}_count` },
      )
      return { name, help, type: 'histogram', values, aggregator: 'sum' }
    },
  }
  return {
    metric: metric as unknown as Metric,
    observe(seconds: number): void {
      let i = 0
      while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++
      counts[i]!++
      sum += seconds
      count++
    },
  }
}

/**
 * Metrics on a registry of their own, with `prom-client`, imported here only:
 * a library user who never runs `jwtguard serve` never loads it. Per request
 * only plain numbers change; the counters read them when scraped.
 */
export async function createMetrics(): Promise<Metrics> {
  const { Counter, Gauge, Registry } = await import('prom-client')
  const registry = new Registry()
  /** Decisions by `outcome code`, as counted per request. */
  const decisionCounts = new Map<string, { outcome: string; code: string; n: number }>()
  let hits = 0
  let verified = 0
  new Counter({
    name: 'jwtguard_decisions_total',
    help: 'Forward-auth decisions, by outcome (allow, deny, error) and error code (none when allowed).',
    labelNames: ['outcome', 'code'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const { outcome, code, n } of decisionCounts.values()) this.inc({ outcome, code }, n)
    },
  })
  const latency = latencyHistogram('jwtguard_decision_duration_seconds', 'Time from request to decision.')
  registry.registerMetric(latency.metric)
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
  new Counter({
    name: 'jwtguard_token_cache_hits_total',
    help: 'Tokens answered from the verified-token cache.',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(hits)
    },
  })
  new Counter({
    name: 'jwtguard_tokens_verified_total',
    help: 'Valid tokens seen, from the cache or not.',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(verified)
    },
  })
  new Gauge({
    name: 'jwtguard_token_cache_hit_ratio',
    help: 'Share of valid tokens answered from the verified-token cache since start.',
    registers: [registry],
    collect() {
      this.set(verified === 0 ? 0 : Math.min(1, hits / verified))
    },
  })
  return {
    decided(status, code, seconds) {
      const key = code ?? 'none'
      const entry = decisionCounts.get(key)
      if (entry) entry.n++
      else decisionCounts.set(key, { outcome: outcomeOf(status), code: key, n: 1 })
      latency.observe(seconds)
    },
    verified() {
      verified++
    },
    event(event) {
      if (event.type === 'cache_hit') hits++
      else if (event.type === 'jwks_fetched') fetches.labels(event.source).inc()
      else if (event.type === 'jwks_fetch_failed') failures.labels(event.source, event.code).inc()
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  }
}
