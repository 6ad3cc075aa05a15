import type { ResourceMetadataOptions } from './metadata.js'

/** What the HTTP layer tells clients: the challenge's realm and the RFC 9728 metadata. */
export interface GuardHttpOptions {
  /** `realm` of the `WWW-Authenticate` challenge. Default `'api'`. */
  realm?: string
  /**
   * RFC 9728 Protected Resource Metadata: adapters serve it on
   * `/.well-known/oauth-protected-resource[/path]`, and 401 challenges carry
   * `resource_metadata` (what MCP clients look for).
   */
  resourceMetadata?: ResourceMetadataOptions
}
