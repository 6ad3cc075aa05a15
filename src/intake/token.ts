import { GuardError } from '../errors.js'

/** Default cap on the token length, in bytes (the token is ASCII once it passed intake). */
export const DEFAULT_MAX_TOKEN_LENGTH = 8 * 1024

const SEGMENT = /^[A-Za-z0-9_-]*$/

/** A token after intake: split, decoded header and claims, nothing verified yet. */
export interface ParsedToken {
  raw: string
  segments: string[]
  header: Record<string, unknown>
  /** Claims of a JWS (undefined for a JWE, whose payload is ciphertext). */
  payload: Record<string, unknown> | undefined
  /** The signature bytes of a JWS (undefined for a JWE). */
  signature: Buffer | undefined
  encrypted: boolean
}

function malformed(reason: string): GuardError {
  return new GuardError('ERR_JWT_MALFORMED', 'Malformed token', { reason })
}

/**
 * For a canonical base64url segment the last character may only carry bits that are used: with 2 leftover characters
 * its 4 low bits are zero, with 3 its 2 low bits. Characters allowed last, by the number of leftover characters.
 */
const LAST = [2, 3].map((leftover) => {
  const allowed = new Uint8Array(128)
  for (const c of leftover === 2 ? 'AQgw' : 'AEIMQUYcgkosw048') allowed[c.charCodeAt(0)] = 1
  return allowed
})

/** The length and last-character half of the rule: no 4n+1 length, no stray bits at the end. */
function endsCanonically(segment: string): boolean {
  const leftover = segment.length & 3
  if (leftover === 1) return false
  return leftover === 0 || LAST[leftover - 2]![segment.charCodeAt(segment.length - 1)] === 1
}

function isCanonicalSegment(segment: string): boolean {
  return SEGMENT.test(segment) && endsCanonically(segment)
}

/**
 * `isCanonicalSegment` and the decoding in one, for a segment of a token with no character above 255: the bytes, or
 * `undefined` where the segment is not canonical. Node's decoder skips what is not base64 (whitespace, `=`, any other
 * character up to 255), so fewer bytes than the length promises means such a character; it takes `+` and `/` (base64)
 * as well, so those are looked for. A character above 255 it would read by its low byte (`Ł` as `A`): the caller
 * refuses those first (`WIDE`). Cheaper than the regular expression over a long payload.
 */
function decodeCanonical(segment: string): Buffer | undefined {
  if (!endsCanonically(segment)) return undefined
  const bytes = Buffer.from(segment, 'base64url')
  if (bytes.length !== (segment.length * 3) >> 2 || segment.includes('+') || segment.includes('/')) return undefined
  return bytes
}

/**
 * A character above 255, which the decoder would read by its low byte. (One from 128 to 255 is no base64 to it: it is
 * skipped, and the length check refuses it.) V8 answers at once for the usual one-byte string.
 */
const WIDE = /[\u0100-\uffff]/

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw malformed(`${what}_not_json`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${what}_not_object`)
  return value as Record<string, unknown>
}

export const decodeJsonSegment = (segment: string, what: string): Record<string, unknown> =>
  parseJson(Buffer.from(segment, 'base64url'), what)

/**
 * Parsed headers by their segment. A service sees a handful of distinct
 * headers (one per key, algorithm and type), so most tokens skip decoding and
 * parsing theirs. Only flat headers are kept (every member a string, number,
 * boolean or null: `alg`, `kid`, `typ`), frozen, since every token with that
 * header shares the object; one with an embedded `jwk` or `x5c` chain is
 * parsed each time. Bounded: a flood of distinct headers empties it, nothing more.
 */
const headers = new Map<string, Record<string, unknown>>()
const HEADERS_MAX = 256
const HEADER_CACHED_LENGTH = 512

function isFlat(header: Record<string, unknown>): boolean {
  for (const key in header) {
    const value = header[key]
    if (typeof value === 'object' && value !== null) return false
  }
  return true
}

/** A kept header's segment passed `isCanonicalSegment` when it was kept: the same string needs no second look. */
function headerOf(segment: string): Record<string, unknown> {
  const known = headers.get(segment)
  if (known) return known
  const header = decodeJsonSegment(segment, 'header')
  if (segment.length <= HEADER_CACHED_LENGTH && isFlat(header)) {
    if (headers.size >= HEADERS_MAX) headers.clear()
    headers.set(segment, Object.freeze(header))
  }
  return header
}

/**
 * Everything checked before any crypto: size, compact form, canonical
 * base64url, the number of segments, a JSON object header (and payload for a
 * JWS). Costs O(length) and allocates nothing big for hostile input.
 */
export function parseToken(raw: string, maxLength: number): ParsedToken {
  if (raw.length > maxLength) throw new GuardError('ERR_JWT_TOO_LARGE', 'Token too large', { reason: 'too_large' })
  // Split by hand: `split` cost about 0.35 us a token, most of intake's own time.
  const first = raw.indexOf('.')
  const second = first < 0 ? -1 : raw.indexOf('.', first + 1)
  if (second < 0) throw malformed('segment_count')
  if (raw.indexOf('.', second + 1) >= 0) {
    const segments = raw.split('.')
    if (segments.length !== 5) throw malformed('segment_count')
    return parseJwe(raw, segments)
  }
  // A JWS: the header by the rule (unless kept: see `headerOf`), payload and signature as they are decoded.
  const head = raw.slice(0, first)
  const body = raw.slice(first + 1, second)
  const sig = raw.slice(second + 1)
  const segments = [head, body, sig]
  if (WIDE.test(raw) || (!headers.has(head) && !isCanonicalSegment(head))) throw malformed('not_base64url')
  const claims = decodeCanonical(body)
  const signature = decodeCanonical(sig)
  if (claims === undefined || signature === undefined) throw malformed('not_base64url')
  const header = checkedHeader(segments)
  // An empty signature is `alg: none` in disguise; an empty payload is no JWT.
  if (body === '' || sig === '') throw malformed('jws_part_missing')
  return { raw, segments, header, payload: parseJson(claims, 'payload'), signature, encrypted: false }
}

/** JWE: header, encrypted key (empty for dir / ECDH-ES), iv, ciphertext, tag. */
function parseJwe(raw: string, segments: string[]): ParsedToken {
  for (const segment of segments) if (!isCanonicalSegment(segment)) throw malformed('not_base64url')
  const header = checkedHeader(segments)
  if (segments[2] === '' || segments[3] === '' || segments[4] === '') throw malformed('jwe_part_missing')
  if (typeof header.enc !== 'string') throw malformed('enc_missing')
  return { raw, segments, header, payload: undefined, signature: undefined, encrypted: true }
}

function checkedHeader(segments: string[]): Record<string, unknown> {
  const header = headerOf(segments[0]!)
  if (typeof header.alg !== 'string' || header.alg === '') throw malformed('alg_missing')
  return header
}
