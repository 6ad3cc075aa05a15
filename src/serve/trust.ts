import { BlockList, isIP } from 'node:net'

/** Which peers may set the forwarded headers. Loopback by default. */
export const DEFAULT_TRUSTED_PROXIES = ['127.0.0.0/8', '::1']

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
export function normalizeAddress(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}

/**
 * Compiles `trustedProxies` (addresses or CIDRs). Returns the matcher and the
 * messages for entries that are neither; `where` names the field.
 */
export function compileTrust(entries: unknown, where: string): { trusts: (address: string | undefined) => boolean; errors: string[] } {
  const list = new BlockList()
  const errors: string[] = []
  if (!Array.isArray(entries)) return { trusts: () => false, errors: [`${where} must be an array of addresses or CIDRs`] }
  entries.forEach((entry, i) => {
    const [address = '', prefix, extra] = typeof entry === 'string' ? entry.split('/') : []
    const ip = normalizeAddress(address)
    const family = isIP(ip)
    const bits = prefix === undefined ? undefined : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN
    const max = family === 4 ? 32 : 128
    if (family === 0 || extra !== undefined || (bits !== undefined && !(bits <= max))) {
      errors.push(`${where}[${i}] must be an IP address or a CIDR such as "10.0.0.0/8", not ${JSON.stringify(entry)}`)
      return
    }
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(ip, type)
    else list.addSubnet(ip, bits, type)
  })
  return {
    trusts: (address) => {
      if (!address) return false
      const ip = normalizeAddress(address)
      const family = isIP(ip)
      return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6')
    },
    errors,
  }
}
