// A strict parser for `WWW-Authenticate` (RFC 7235 §2.1, §4.1), then RFC 6750 §3's value rules. Written for the
// tests, apart from the code under test: it accepts only what the grammar says, and says where it stopped.

export interface Challenge {
  scheme: string
  params: Record<string, string>
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/
// qdtext: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
const QDTEXT = /^[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]$/
const QUOTED_PAIR = /^[\t \x21-\x7e\x80-\xff]$/

/** RFC 6750 §3: `realm` (the sane rule), `error`, `error_description`: %x20-21 / %x23-5B / %x5D-7E. */
export const NQSCHAR = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/
/** RFC 6750 §3 `scope`: scope-tokens (%x21 / %x23-5B / %x5D-7E) separated by single spaces. */
export const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/

class Cursor {
  at = 0
  constructor(readonly text: string) {}
  get char(): string | undefined {
    return this.text[this.at]
  }
  fail(what: string): never {
    throw new Error(`${what} at ${this.at} in ${JSON.stringify(this.text)}`)
  }
  ows(): void {
    while (this.char === ' ' || this.char === '\t') this.at++
  }
  token(): string {
    const start = this.at
    while (this.char !== undefined && TCHAR.test(this.char)) this.at++
    if (this.at === start) this.fail('token expected')
    return this.text.slice(start, this.at)
  }
  /** A quoted-string's content; `escaped` is set if it used a quoted-pair. */
  quoted(): { value: string; escaped: boolean } {
    if (this.char !== '"') this.fail('quoted-string expected')
    this.at++
    let value = ''
    let escaped = false
    for (;;) {
      const c: string | undefined = this.char
      if (c === undefined) return this.fail('unterminated quoted-string')
      this.at++
      if (c === '"') return { value, escaped }
      if (c === '\\') {
        const next: string | undefined = this.char
        if (next === undefined || !QUOTED_PAIR.test(next)) this.fail('bad quoted-pair')
        this.at++
        value += next
        escaped = true
      } else if (QDTEXT.test(c)) value += c
      else this.fail(`character U+${c.codePointAt(0)!.toString(16).padStart(4, '0')} not allowed in a quoted-string`)
    }
  }
}

/**
 * RFC 7235: `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`, challenges comma-separated,
 * `auth-param = token BWS "=" BWS ( token / quoted-string )`. No token68 (no jwtguard challenge has one),
 * no empty list elements, each parameter once per challenge. Quoted-pairs are reported, for RFC 6750.
 */
export function parseChallenges(header: string): Challenge[] {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\xff]*$/.test(header) || /[\r\n\x00]/.test(header)) throw new Error(`not a header field value: ${JSON.stringify(header)}`)
  const c = new Cursor(header)
  const challenges: Challenge[] = []
  let current: Challenge | undefined
  const param = (name: string): void => {
    c.ows()
    if (c.char !== '=') c.fail('"=" expected')
    c.at++
    c.ows()
    let value: string
    if (c.char === '"') {
      const q = c.quoted()
      if (q.escaped) c.fail(`RFC 6750 forbids '"' and '\\' in ${name}, so no quoted-pair`)
      value = q.value
    } else value = c.token()
    const key = name.toLowerCase()
    if (Object.hasOwn(current!.params, key)) c.fail(`parameter ${name} repeated`)
    current!.params[key] = value
  }
  for (;;) {
    // A challenge starts with its scheme.
    current = { scheme: c.token(), params: {} }
    challenges.push(current)
    if (c.char === undefined) return challenges
    if (c.char === ',') {
      c.at++
      c.ows()
      continue
    }
    if (c.char !== ' ') c.fail('SP or "," expected after the scheme')
    while (c.char === ' ') c.at++
    param(c.token())
    for (;;) {
      c.ows()
      if (c.char === undefined) return challenges
      if (c.char !== ',') c.fail('"," expected')
      c.at++
      c.ows()
      const start = c.at
      const name = c.token()
      c.ows()
      if (c.char === '=') param(name)
      else {
        c.at = start
        break
      }
    }
  }
}

/** Parses the header and checks each Bearer / DPoP parameter against RFC 6750 §3 (and RFC 9449 §7.1's `algs`). */
export function checkChallenge(header: string): Challenge[] {
  const challenges = parseChallenges(header)
  for (const { scheme, params } of challenges) {
    if (scheme !== 'Bearer' && scheme !== 'DPoP') throw new Error(`unexpected scheme ${scheme}`)
    for (const [name, value] of Object.entries(params)) {
      const ok =
        name === 'scope'
          ? SCOPE.test(value)
          : name === 'algs'
            ? SCOPE.test(value)
            : name === 'error'
              ? value !== '' && NQSCHAR.test(value)
              : NQSCHAR.test(value)
      if (!ok) throw new Error(`${scheme} ${name}=${JSON.stringify(value)} is outside RFC 6750 §3's characters`)
    }
  }
  return challenges
}
