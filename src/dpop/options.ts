import type { DpopReplayStore } from './replay.js'

/** DPoP (RFC 9449) settings: sender-constrained tokens, `Authorization: DPoP <token>` with a `DPoP` proof header. */
export interface DpopOptions {
  /** `true`: Bearer tokens are refused; every request needs a DPoP-bound token and a proof. Default `false`. */
  required?: boolean
  /** Allowed proof algorithms (asymmetric only). Default: ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512, EdDSA, Ed25519. */
  algorithms?: string[]
  /** How far a proof's `iat` may be from now, in seconds, either way. Default 60. */
  proofMaxAge?: number
  /**
   * Server nonces (RFC 9449 §8): `true` or `{ secret, lifetime }`. Proofs without a
   * current nonce get 401 `use_dpop_nonce` and a fresh `DPoP-Nonce`. Share `secret`
   * across instances. Default: off.
   */
  nonce?: boolean | { secret?: Uint8Array; lifetime?: number }
  /** Where proof `jti`s are remembered. Default: an in-memory store; `redisDpopReplayStore` for a fleet. */
  replayStore?: DpopReplayStore
  /**
   * The origin(s) clients address this API by, e.g. `'https://api.example.com'`
   * (or a list of them): the proof's `htu` must name one of them. Set it in
   * production. Without it, `htu` must name the address the server listens on
   * (the connection's local address and port, `https` on TLS; on a loopback
   * listener also `localhost`, `127.0.0.1` and `[::1]`), which suits local
   * development only. `Host` and `X-Forwarded-*` are never trusted for this.
   */
  origin?: string | readonly string[]
}

/** Sender-constrained tokens bound to a proof-of-possession key. */
export interface GuardDpopOptions {
  /**
   * Accept DPoP-bound tokens (RFC 9449): `Authorization: DPoP <token>` with a
   * `DPoP` proof. A token bound to a key (`cnf.jkt`) is never accepted as a
   * Bearer token, whether or not this is set. `true` for the defaults.
   */
  dpop?: DpopOptions | boolean
}
