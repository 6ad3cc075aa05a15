import { GuardError } from '../errors.js'
import { checkRemoteUrl, fetchJson, type FetchLimits } from './fetch.js'

const ACCEPT = 'application/json'

/** Where an issuer's metadata may live: OIDC Discovery first, then RFC 8414 (path-inserted). */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return [`${url.origin}${path}/.well-known/openid-configuration`, `${url.origin}/.well-known/oauth-authorization-server${path}`]
}

/**
 * Finds an issuer's `jwks_uri`. The document's `issuer` must equal the
 * configured one exactly (OIDC Discovery §4.3, RFC 8414 §3.3), or an attacker
 * controlling one document could borrow another issuer's identity.
 */
export async function discoverJwksUri(issuer: string, limits: FetchLimits): Promise<string> {
  let lastError: unknown
  let mismatch: GuardError | undefined
  for (const url of metadataUrls(issuer)) {
    let doc: unknown
    try {
      doc = await fetchJson(url, ACCEPT, limits, 'ERR_DISCOVERY_FAILED')
    } catch (err) {
      // A timeout spends the whole deadline: trying the next location could only overrun it.
      if (err instanceof GuardError && err.code === 'ERR_JWKS_TIMEOUT') throw err
      lastError = err
      continue
    }
    const meta = doc as { issuer?: unknown; jwks_uri?: unknown } | null
    if (typeof meta !== 'object' || meta === null || typeof meta.jwks_uri !== 'string') {
      lastError = new GuardError('ERR_DISCOVERY_FAILED', 'Key source unavailable', { reason: 'metadata_invalid' })
      continue
    }
    if (meta.issuer !== issuer) {
      // The commonest misconfiguration (a trailing slash, http vs https): say both values, for logs and explain only.
      const named = typeof meta.issuer === 'string' ? meta.issuer.slice(0, 512) : String(typeof meta.issuer)
      const cause = new Error(`the discovery document at ${url} names issuer "${named}", not the configured "${issuer}"`)
      mismatch = new GuardError(
        'ERR_DISCOVERY_FAILED',
        'Key source unavailable',
        { reason: 'issuer_mismatch', configuredIssuer: issuer, documentIssuer: named },
        { cause },
      )
      continue
    }
    try {
      return checkRemoteUrl(meta.jwks_uri, 'jwks_uri').href
    } catch (cause) {
      throw new GuardError('ERR_DISCOVERY_FAILED', 'Key source unavailable', { reason: 'jwks_uri_invalid' }, { cause })
    }
  }
  throw mismatch ?? new GuardError('ERR_DISCOVERY_FAILED', 'Key source unavailable', { reason: 'discovery_failed' }, { cause: lastError })
}
