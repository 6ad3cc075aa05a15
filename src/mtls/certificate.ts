import { createHash } from 'node:crypto'
import { GuardError } from '../errors.js'
import { headerCount, type GuardRequest } from '../intake/request.js'
import { normaliseAddress, type MtlsPolicy } from './policy.js'

/** A certificate larger than this in a proxy's header is refused before it is decoded (DER, bytes). */
const MAX_CERTIFICATE_BYTES = 16 * 1024
// RFC 8941 §3.3.5 byte sequence: `:` base64 (with padding) `:`.
const BYTE_SEQUENCE = /^:((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?):$/

const thumbprint = (der: Buffer): string => createHash('sha256').update(der).digest('base64url')

/** RFC 9440 `Client-Cert` from a trusted proxy: the certificate's DER, or `undefined` when absent or malformed. */
function fromHeader(request: GuardRequest, name: string): Buffer | undefined {
  const value = request.headers[name]
  if (value === undefined || Array.isArray(value) || headerCount(request, name) !== 1) return undefined
  if (value.length > (MAX_CERTIFICATE_BYTES * 4) / 3 + 4) return undefined
  const match = BYTE_SEQUENCE.exec(value.trim())
  if (!match || match[1] === '') return undefined
  return Buffer.from(match[1]!, 'base64')
}

/** The peer certificate of this TLS connection (no chain validation: RFC 8705 §2.2 self-signed clients). */
function fromConnection(request: GuardRequest): Buffer | undefined {
  const connection = request.connection
  if (typeof connection?.getPeerCertificate !== 'function') return undefined
  // Without `detailed`: `raw` is there either way, and the issuer chain is not built for nothing.
  const raw = connection.getPeerCertificate(false)?.raw
  return Buffer.isBuffer(raw) && raw.length > 0 ? raw : undefined
}

/**
 * The SHA-256 thumbprint (base64url of the DER, RFC 8705 §3.1) of the request's client certificate:
 * from a trusted proxy's header when the connection comes from one, else from the TLS connection.
 */
export function clientThumbprint(policy: MtlsPolicy, request: GuardRequest): string | undefined {
  const address = request.connection?.remoteAddress
  const proxied = policy.header !== undefined && typeof address === 'string' && policy.trusts(normaliseAddress(address))
  const der = proxied ? fromHeader(request, policy.header!) : fromConnection(request)
  return der === undefined ? undefined : thumbprint(der)
}

/**
 * RFC 8705 §3: a token bound to a certificate (`cnf["x5t#S256"]`) passes only with that certificate,
 * on every request (cached tokens too). No request (`guard.verify`) is no certificate.
 */
export function checkCertificateBinding(policy: MtlsPolicy | undefined, request: GuardRequest | undefined, x5t: string): void {
  const presented = policy && request ? clientThumbprint(policy, request) : undefined
  // Both thumbprints in context, for `explain` and logs: they are public (a hash of a public certificate).
  if (presented === undefined)
    throw new GuardError('ERR_MTLS_BINDING_INVALID', 'Client certificate required', { reason: 'no_certificate', expected: x5t })
  if (presented !== x5t)
    throw new GuardError('ERR_MTLS_BINDING_INVALID', 'Token not bound to the client certificate', {
      reason: 'x5t_mismatch',
      expected: x5t,
      presented,
    })
}
