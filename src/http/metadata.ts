import { optionError } from '../option-error.js'
/** RFC 9728 Protected Resource Metadata, in the option names of this package (camelCase). */
export interface ResourceMetadataOptions {
  /** The resource identifier: an `https:` URL (loopback `http:` for tests), e.g. `'https://api.example.com/mcp'`. Required. */
  resource: string
  /** Issuer identifiers of the authorization servers that issue tokens for it. */
  authorizationServers?: string[]
  /** Scopes a client may request for it. */
  scopesSupported?: string[]
  /** Human-readable name. */
  resourceName?: string
  /** Developer documentation URL. */
  resourceDocumentation?: string
  resourcePolicyUri?: string
  resourceTosUri?: string
  /** Any other RFC 9728 (or extension) member, written as given (snake_case). */
  extra?: Record<string, unknown>
}

export interface ProtectedResource {
  /** The path adapters serve it on (RFC 9728 §3.1: path-aware). */
  path: string
  /** The absolute URL, used as `resource_metadata` in challenges. */
  url: string
  document: Readonly<Record<string, unknown>>
}

const fail = (member: string, message: string): never => {
  throw optionError(`resourceMetadata${member ? `.${member}` : ''}`, message)
}

function urlList(value: unknown, member: string): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) return fail(member, 'must be an array of strings')
  return value as string[]
}

/**
 * Builds the metadata document once. `bearerMethods` and the DPoP members come
 * from the guard's own settings, so the document cannot disagree with it.
 */
export function protectedResource(
  options: ResourceMetadataOptions,
  derived: { bearerMethods: string[]; dpopAlgorithms: string[] | undefined; dpopRequired: boolean },
): ProtectedResource {
  if (typeof options !== 'object' || options === null) return fail('', 'must be an object')
  let resource: URL
  try {
    resource = new URL(options.resource)
  } catch {
    return fail('resource', 'must be an absolute URL')
  }
  if (resource.search || resource.hash) fail('resource', 'must have no query or fragment (RFC 9728 §2)')
  if (!(
    resource.protocol === 'https:' ||
    (resource.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/.test(resource.hostname))
  )) {
    fail('resource', 'must be an https: URL (http: only on a loopback host), RFC 9728 §1.2')
  }
  // RFC 9728 §3.1: the resource's path, as is (a trailing slash is part of the identifier).
  const suffix = resource.pathname === '/' ? '' : resource.pathname
  const path = `/.well-known/oauth-protected-resource${suffix}`
  const document: Record<string, unknown> = { resource: options.resource }
  const servers = urlList(options.authorizationServers, 'authorizationServers')
  // RFC 9728 §3.2: members with no value are omitted, not sent empty.
  if (servers?.length) document.authorization_servers = servers
  const scopes = urlList(options.scopesSupported, 'scopesSupported')
  if (scopes?.length) document.scopes_supported = scopes
  document.bearer_methods_supported = derived.bearerMethods
  if (derived.dpopAlgorithms) {
    document.dpop_signing_alg_values_supported = derived.dpopAlgorithms
    document.dpop_bound_access_tokens_required = derived.dpopRequired
  }
  for (const [key, member] of [
    ['resourceName', 'resource_name'],
    ['resourceDocumentation', 'resource_documentation'],
    ['resourcePolicyUri', 'resource_policy_uri'],
    ['resourceTosUri', 'resource_tos_uri'],
  ] as const) {
    const value = options[key]
    if (value === undefined) continue
    if (typeof value !== 'string') fail(key, 'must be a string')
    document[member] = value
  }
  if (options.extra !== undefined) {
    if (typeof options.extra !== 'object' || options.extra === null) fail('extra', 'must be an object')
    for (const [k, v] of Object.entries(options.extra)) if (!(k in document)) document[k] = v
  }
  return { path, url: `${resource.origin}${path}`, document: Object.freeze(document) }
}
