// Words for people, shared by `guard.explain()` and the CLI: durations, dates, refusals, terminal-safe lines.

/** Intake refusals in words (shared with `jwtguard inspect`). */
export const MALFORMED_REASONS: Readonly<Record<string, string>> = {
  segment_count: 'not 3 segments (JWS) or 5 (JWE)',
  not_base64url: 'a segment is not canonical base64url (padding, whitespace or a stray character)',
  header_not_json: 'the header is not JSON',
  header_not_object: 'the header is not a JSON object',
  payload_not_json: 'the payload is not JSON',
  payload_not_object: 'the payload is not a JSON object',
  alg_missing: 'the header has no "alg"',
  enc_missing: 'the JWE header has no "enc"',
  jwe_part_missing: 'a part of the JWE (iv, ciphertext or tag) is empty',
  jws_part_missing: 'the payload or the signature is empty',
  not_a_string: 'the token is not a string',
}

// What must not reach a terminal from a token: C0 and C1 controls (ESC starts escape sequences; CSI is U+009B), DEL,
// bidi controls that reorder what is shown (U+061C, U+200E/F, U+202A–202E, U+2066–2069), line separators.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/**
 * One line safe for a terminal: each character above as `\u001b` (JSON's escape, so a line
 * of JSON stays JSON that parses to the same value).
 */
export function printable(line: string): string {
  return line.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** "3 h 2 min", "45 s", "2 d 4 h". */
export function humanDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds))
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ]
  const parts: string[] = []
  let rest = s
  for (const [size, name] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${name}`)
      rest %= size
    }
  }
  return parts.length ? parts.join(' ') : '0 s'
}

export const iso = (epoch: unknown): string =>
  typeof epoch === 'number' && Number.isFinite(epoch) ? new Date(epoch * 1000).toISOString() : String(epoch)
export const list = (values: Iterable<string>): string => [...values].map((v) => JSON.stringify(v)).join(', ') || 'none'
