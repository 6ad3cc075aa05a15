/** Redis Cluster key slots (CRC16-XMODEM of the key or of its `{hash tag}`, modulo 16384), as the server computes them. */

export const SLOTS = 16_384

const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!
  return crc
}

/** The part of `key` the server hashes: the first non-empty `{...}`, else the whole key. */
export function hashedPart(key: string): string {
  const open = key.indexOf('{')
  if (open === -1) return key
  const close = key.indexOf('}', open + 1)
  return close === -1 || close === open + 1 ? key : key.slice(open + 1, close)
}

export function keySlot(key: string): number {
  return crc16(Buffer.from(hashedPart(key), 'utf8')) % SLOTS
}

let tags: string[] | undefined

/** For every slot, a short hash tag that lands in it (computed once, on first use by a cluster store). */
export function slotTags(): readonly string[] {
  if (tags) return tags
  const found: string[] = new Array<string>(SLOTS)
  let missing = SLOTS
  for (let n = 0; missing > 0; n++) {
    const tag = n.toString(36)
    const slot = keySlot(tag)
    if (found[slot] === undefined) {
      found[slot] = tag
      missing--
    }
  }
  tags = found
  return found
}
