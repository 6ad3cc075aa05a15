import type { TokenSource } from './request.js'

/** Where a request's token is taken from, and what a request without one gets. */
export interface GuardIntakeOptions {
  /** Default `true`. `false` lets requests without a token through with no `auth`; a bad token is still refused. */
  authRequired?: boolean
  /** Where tokens come from. Default `'header'` (`Authorization: Bearer`). An array is tried in order. */
  tokenFrom?: TokenSource | TokenSource[]
  /** Largest token accepted, in bytes. Default 8 KiB. */
  maxTokenLength?: number
}
