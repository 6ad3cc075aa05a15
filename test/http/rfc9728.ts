/**
 * A checker for RFC 9728 §2 protected resource metadata, written from the RFC
 * (independently of src/http/metadata.ts). Returns the problems found; none
 * means the document is valid. Members outside §2 are reported too, unless
 * listed in `extensions`: in a document jwtguard writes, an unknown snake_case
 * name is a typo.
 */
type Kind = 'resource' | 'url' | 'string' | 'boolean' | 'strings' | 'urls' | 'algs' | 'bearer_methods'

const MEMBERS: Record<string, Kind> = {
  resource: 'resource',
  authorization_servers: 'urls',
  jwks_uri: 'url',
  scopes_supported: 'strings',
  bearer_methods_supported: 'bearer_methods',
  resource_signing_alg_values_supported: 'algs',
  resource_name: 'string',
  resource_documentation: 'url',
  resource_policy_uri: 'url',
  resource_tos_uri: 'url',
  tls_client_certificate_bound_access_tokens: 'boolean',
  authorization_details_types_supported: 'strings',
  dpop_signing_alg_values_supported: 'algs',
  dpop_bound_access_tokens_required: 'boolean',
  signed_metadata: 'string',
}

/** §2.1: human-readable members may carry a BCP 47 language tag after `#`. */
const LOCALISABLE = new Set(['resource_name', 'resource_documentation', 'resource_policy_uri', 'resource_tos_uri'])

/** https, or http on a loopback host (test servers); no fragment (§1.2). */
function isResourceUrl(value: unknown, requireNoFragment: boolean): boolean {
  if (typeof value !== 'string') return false
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]'
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return false
  return !(requireNoFragment && value.includes('#'))
}

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')

function check(kind: Kind, value: unknown): string | undefined {
  switch (kind) {
    case 'resource':
      return isResourceUrl(value, true) ? undefined : 'must be an https URL with no fragment'
    case 'url':
      return isResourceUrl(value, false) ? undefined : 'must be an https URL'
    case 'string':
      return typeof value === 'string' ? undefined : 'must be a string'
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean'
    case 'strings':
      return isStrings(value) && value.length > 0 ? undefined : 'must be a non-empty array of strings (§3.2: omit zero values)'
    case 'urls':
      return isStrings(value) && value.length > 0 && value.every((v) => isResourceUrl(v, true))
        ? undefined
        : 'must be a non-empty array of issuer URLs'
    case 'algs':
      return isStrings(value) && value.length > 0 && !value.includes('none')
        ? undefined
        : 'must be a non-empty array of JWS alg values, never none'
    case 'bearer_methods':
      // The one array the RFC lets be empty: "no bearer methods are supported".
      return isStrings(value) && value.every((v) => ['header', 'body', 'query'].includes(v)) && new Set(value).size === value.length
        ? undefined
        : 'must hold only "header", "body", "query", once each'
  }
}

export function validateResourceMetadata(document: unknown, extensions: readonly string[] = []): string[] {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return ['not a JSON object']
  const problems: string[] = []
  if (!('resource' in document)) problems.push('resource: REQUIRED')
  for (const [name, value] of Object.entries(document)) {
    const base = name.split('#')[0]!
    const kind = MEMBERS[name] ?? (name.includes('#') && LOCALISABLE.has(base) ? MEMBERS[base] : undefined)
    if (kind === undefined) {
      if (!extensions.includes(name)) problems.push(`${name}: not an RFC 9728 member`)
      continue
    }
    const problem = check(kind, value)
    if (problem) problems.push(`${name}: ${problem}`)
  }
  return problems
}
