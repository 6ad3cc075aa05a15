import { BlockList, isIP } from 'node:net'
import type { MtlsOptions } from './options.js'
import { optionError } from '../option-error.js'

/** The built `mtls` option: where a client certificate may come from. */
export interface MtlsPolicy {
  /** Lower-case name of the trusted proxies' certificate header; `undefined` without proxies. */
  readonly header: string | undefined
  /** Whether a connection's remote address (already normalised) is a trusted proxy. */
  trusts(address: string): boolean
}

const fail = (option: string, message: string): never => {
  throw optionError(option, message)
}

// RFC 9110 §5.1 field-name (token).
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** `::ffff:10.0.0.1` is `10.0.0.1`: the same peer whether the socket is dual-stack or not. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}

function proxyList(value: unknown): BlockList {
  if (!Array.isArray(value) || value.length === 0) fail('mtls.trustedProxies', 'must be a non-empty array of addresses or CIDR ranges')
  const list = new BlockList()
  ;(value as unknown[]).forEach((entry, i) => {
    const name = `mtls.trustedProxies[${i}]`
    if (typeof entry !== 'string') return fail(name, 'must be an address or a CIDR range')
    const [address = '', prefix, ...rest] = entry.trim().split('/')
    const plain = normaliseAddress(address)
    const family = isIP(plain)
    if (family === 0 || rest.length > 0) return fail(name, `is not an address or a CIDR range: ${JSON.stringify(entry)}`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (prefix === undefined) return list.addAddress(plain, type)
    const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN
    if (!(bits <= (family === 4 ? 32 : 128))) return fail(name, `has a bad prefix length: ${JSON.stringify(entry)}`)
    list.addSubnet(plain, bits, type)
  })
  return list
}

/** Validates `mtls` once, at construction; throws a TypeError naming the member at fault. */
export function mtlsPolicy(value: MtlsOptions): MtlsPolicy {
  if (value === true) return { header: undefined, trusts: () => false }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('mtls', 'must be true or { certificateHeader?, trustedProxies }')
  }
  for (const key of Object.keys(value)) {
    if (key !== 'certificateHeader' && key !== 'trustedProxies') fail('mtls', `has an unknown member "${key}"`)
  }
  // A certificate header believed from any peer would let every client name any certificate.
  if (value.trustedProxies === undefined) fail('mtls.trustedProxies', 'is required with an object: the proxies whose header is believed')
  const proxies = proxyList(value.trustedProxies)
  const header = value.certificateHeader ?? 'Client-Cert'
  if (typeof header !== 'string' || !FIELD_NAME.test(header)) fail('mtls.certificateHeader', 'must be an HTTP header name')
  return {
    header: header.toLowerCase(),
    trusts: (address) => proxies.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'),
  }
}
