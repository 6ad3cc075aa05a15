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

/** Certificate-bound tokens. */
export interface GuardMtlsOptions {
  /**
   * Accept certificate-bound tokens (RFC 8705 §3): a token with `cnf["x5t#S256"]` passes only
   * when the client certificate of the TLS connection (or, from a trusted proxy, of its RFC 9440
   * `Client-Cert` header) has that SHA-256 thumbprint; self-signed certificates are fine (no chain
   * validation). Without it such tokens are refused. Tokens without `cnf` are unaffected. Default off.
   */
  mtls?: MtlsOptions | false
}
