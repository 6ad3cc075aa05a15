import type { IssuerPolicy } from '../claims/validate.js'
import type { ExplainCheck } from '../error-table.js'

/**
 * What the stages did, recorded only when `guard.explain()` runs them (every
 * other call passes no trace): the checks that passed, and the header, claims
 * and issuer they judged (a JWE's decrypted ones, not its outer header).
 */
export interface Trace {
  readonly passed: Set<ExplainCheck>
  token: string | undefined
  header: Record<string, unknown> | undefined
  payload: Record<string, unknown> | undefined
  issuer: IssuerPolicy | undefined
  encrypted: boolean
}

export const newTrace = (): Trace => ({
  passed: new Set(),
  token: undefined,
  header: undefined,
  payload: undefined,
  issuer: undefined,
  encrypted: false,
})

/** The claim checks `validateClaims` runs, in its order. */
const CLAIM_CHECKS: readonly ExplainCheck[] = ['issuer', 'audience', 'expiry', 'not-before', 'issued-at', 'claims']

/** Records the claim checks that passed: all of them, or those before `failed`. */
export function passClaims(trace: Trace, failed?: ExplainCheck): void {
  for (const check of CLAIM_CHECKS) {
    if (check === failed) return
    trace.passed.add(check)
  }
}
