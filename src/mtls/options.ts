/** RFC 8705 certificate-bound access tokens, behind a TLS-terminating proxy (RFC 9440). */
export interface MtlsProxyOptions {
  /**
   * The header in which a trusted proxy forwards the client certificate, as an RFC 9440 byte
   * sequence (`:base64 DER:`). Default `'Client-Cert'`.
   */
  certificateHeader?: string
  /**
   * Addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`) of the proxies whose certificate header is
   * believed, compared with the connection's remote address (IPv4-mapped IPv6 forms normalised). The
   * header from any other peer is ignored; their own TLS certificate counts instead. Required.
   */
  trustedProxies: string[]
}

/** `mtls`: `true` reads the client certificate of the TLS connection; an object adds a trusted proxy's header. */
export type MtlsOptions = true | MtlsProxyOptions
