import type { JWK } from 'jose'
import type { JwksCacheOptions } from 'jwtguard'

/** What a bench server process and its parent share: the frameworks, their variants, the config and the IPC messages. */

/** A framework version: the current major under its own name (`express` is Express 5), the older one with its number. */
export type Framework = 'express4' | 'express' | 'koa2' | 'koa' | 'fastify4' | 'fastify'
/** The server file a framework version runs in (`bench/servers/<server>.ts`), and its adapter's name. */
export type ServerKind = 'express' | 'koa' | 'fastify'

/**
 * How each framework version is served: its server file, and the package that file loads (the npm aliases of
 * package.json, so each major is the one asked for whatever the root `express` / `koa` / `fastify` resolves to).
 */
export const FRAMEWORKS = {
  express4: { server: 'express', module: 'express4', label: 'Express 4' },
  express: { server: 'express', module: 'express5', label: 'Express 5' },
  koa2: { server: 'koa', module: 'koa2', label: 'Koa 2' },
  koa: { server: 'koa', module: 'koa3', label: 'Koa 3' },
  fastify4: { server: 'fastify', module: 'fastify4', label: 'Fastify 4' },
  fastify: { server: 'fastify', module: 'fastify5', label: 'Fastify 5' },
} as const satisfies Record<Framework, { server: ServerKind; module: string; label: string }>

const EXPRESS = ['bare', 'noop-guard', 'jwtguard', 'jwtguard-nocache', 'raw-crypto', 'express-oauth2-jwt-bearer', 'express-jwt'] as const
const KOA = ['bare', 'noop-guard', 'jwtguard', 'jwtguard-nocache', 'raw-crypto', 'koa-jwt'] as const

/**
 * Each framework version bare; with `noop-guard`, a middleware that attaches a constant `auth` the framework's idiomatic way
 * (the framework's own cost of one more middleware, which separates it from jwtguard's); with jwtguard (cache on /
 * off); with a hand-written node:crypto route; and with its peers where they support that version (@fastify/jwt 10
 * is for Fastify 5 only; express-jwt, express-oauth2-jwt-bearer and koa-jwt are plain middlewares of either major).
 */
export const VARIANTS = {
  express4: EXPRESS,
  express: EXPRESS,
  koa2: KOA,
  koa: KOA,
  fastify4: ['bare', 'noop-guard', 'jwtguard', 'jwtguard-nocache', 'raw-crypto'],
  fastify: ['bare', 'noop-guard', 'jwtguard', 'jwtguard-nocache', 'raw-crypto', '@fastify/jwt', '@fastify/jwt-cache'],
} as const satisfies Record<Framework, readonly string[]>

/**
 * With `npm run bench -- --baseline DIR`: jwtguard as built in another checkout (`DIR/dist`), cache on and off,
 * measured in the same interleaved rounds as this one. A before/after comparison under the same noise.
 */
export const BASELINE_VARIANTS = ['baseline', 'baseline-nocache'] as const
/** Where the baseline checkout is, for the server processes (set by bench/index.ts from `--baseline`). */
export const BASELINE_ENV = 'BENCH_BASELINE'

export type Variant = (typeof VARIANTS)[Framework][number] | (typeof BASELINE_VARIANTS)[number]

/** Passed in the `BENCH_SERVER_CONFIG` environment variable, as JSON. */
export interface ServerConfig {
  issuer: string
  audience: string
  /** Served by the parent: jwtguard and express-oauth2-jwt-bearer fetch the key from it, as in production. */
  jwksUri: string
  /** The RS256 public key, for the peers configured with a key (express-jwt, koa-jwt, @fastify/jwt) and the raw route. */
  jwk: JWK
  /** jwtguard's remote key-set settings (the soak shortens them). */
  jwksCache?: JwksCacheOptions
}

export const CONFIG_ENV = 'BENCH_SERVER_CONFIG'

/** Every server answers `GET /protected` with `{ sub }` (200) or an error status. */
export const ROUTE = '/protected'

export interface ServerStats {
  /** Largest event-loop delay since start or the last reset, in ms (`monitorEventLoopDelay`). */
  eventLoopMaxMs: number
  eventLoopP99Ms: number
  /** Longest garbage-collection pause since start or the last reset, in ms. */
  gcMaxMs: number
  rss: number
  heapUsed: number
  /** CPU time of the whole server process (main thread and thread pool) since start or the last reset, in µs. */
  cpuUs: number
}

export type ParentMessage = { type: 'reset' } | { type: 'stats' }
export type ChildMessage =
  /** `version`: of the framework package the server loaded, so a run shows it measured the major it names. */
  { type: 'ready'; ports: Partial<Record<Variant, number>>; version: string } | ({ type: 'stats' } & ServerStats)

/** What `noop-guard` attaches to every request: a constant, as a verified token's `AuthInfo` would look. */
export const NOOP_AUTH = {
  token: 'noop',
  header: { alg: 'RS256' },
  payload: { sub: 'bench-user' },
  claims: { sub: 'bench-user' },
  scopes: [] as string[],
  roles: [] as string[],
  encrypted: false,
}

/** The revocation setups of bench/servers/fastify-revocation.ts, one server each. */
export const REVOCATION_VARIANTS = ['none', 'memory', 'redis-direct', 'redis-replicated'] as const
export type RevocationVariant = (typeof REVOCATION_VARIANTS)[number]
