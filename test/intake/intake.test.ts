import { describe, expect, it } from 'vitest'
import { GuardError } from '../../src/errors.js'
import { checkTokenSyntax, locateToken, type ExtractedToken, type GuardRequest, type TokenSource } from '../../src/intake/request.js'
import { DEFAULT_MAX_TOKEN_LENGTH, parseToken } from '../../src/intake/token.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const seg = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const HEADER = seg({ alg: 'RS256' })
const PAYLOAD = seg({ sub: 'user-1' })
const SIG = seg('sig')

/** What the guard does with a request before it has a token: locate it, then check its RFC 6750 syntax. */
function extractToken(request: GuardRequest, sources: readonly TokenSource[], schemes: ReadonlySet<string>): ExtractedToken | undefined {
  const found = locateToken(request, sources, schemes)
  if (!found) return undefined
  checkTokenSyntax(found)
  return { token: found.token, scheme: found.scheme }
}

/** The GuardError a synchronous call throws (fails the test if it throws anything else or nothing). */
function thrown(fn: () => unknown): GuardError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(GuardError)
    return err as GuardError
  }
  throw new Error('expected a GuardError')
}

const malformed = (reason: string) => ({ code: 'ERR_JWT_MALFORMED', status: 401, context: { reason } })
const parse = (raw: string) => parseToken(raw, DEFAULT_MAX_TOKEN_LENGTH)

describe('parseToken: size cap', () => {
  // A canonical token of exactly `length` characters ('A' is a valid last character for any remainder but 1).
  const ofLength = (length: number): string => `${HEADER}.${PAYLOAD}.${'A'.repeat(length - HEADER.length - PAYLOAD.length - 2)}`

  it('accepts a token of exactly the cap and refuses one character more, before looking at it', () => {
    expect(parse(ofLength(8192)).header).toEqual({ alg: 'RS256' })
    expect(thrown(() => parse(ofLength(8193)))).toMatchObject({ code: 'ERR_JWT_TOO_LARGE', status: 401, context: { reason: 'too_large' } })
    // Garbage over the cap is refused for its size, not its shape.
    expect(thrown(() => parse(' '.repeat(8193)))).toMatchObject({ code: 'ERR_JWT_TOO_LARGE' })
  })

  it('honours a smaller cap', () => {
    expect(thrown(() => parseToken(ofLength(200), 199))).toMatchObject({ code: 'ERR_JWT_TOO_LARGE' })
    expect(parseToken(ofLength(200), 200).encrypted).toBe(false)
  })
})

describe('parseToken: segments', () => {
  it.each([
    ['one', HEADER],
    ['two', `${HEADER}.${PAYLOAD}`],
    ['four', `${HEADER}.${PAYLOAD}.${SIG}.${SIG}`],
    ['six', `${HEADER}.${PAYLOAD}.${SIG}.${SIG}.${SIG}.${SIG}`],
    ['the empty string', ''],
  ])('refuses %s segment(s)', (_, raw) => {
    expect(thrown(() => parse(raw))).toMatchObject(malformed('segment_count'))
  })

  it('splits a JWS into header and claims', () => {
    expect(parse(`${HEADER}.${PAYLOAD}.${SIG}`)).toEqual({
      raw: `${HEADER}.${PAYLOAD}.${SIG}`,
      segments: [HEADER, PAYLOAD, SIG],
      header: { alg: 'RS256' },
      payload: { sub: 'user-1' },
      signature: Buffer.from('sig'),
      encrypted: false,
    })
  })

  it('takes 5 segments as a JWE, whose encrypted key may be empty (dir, ECDH-ES)', () => {
    const jweHeader = seg({ alg: 'dir', enc: 'A256GCM' })
    const parsed = parse(`${jweHeader}..${SIG}.${SIG}.${SIG}`)
    expect(parsed).toMatchObject({ encrypted: true, payload: undefined, header: { alg: 'dir', enc: 'A256GCM' } })
  })

  it.each([
    ['iv', (h: string) => `${h}.${SIG}..${SIG}.${SIG}`],
    ['ciphertext', (h: string) => `${h}.${SIG}.${SIG}..${SIG}`],
    ['tag', (h: string) => `${h}.${SIG}.${SIG}.${SIG}.`],
  ])('refuses a JWE with an empty %s', (_, build) => {
    expect(thrown(() => parse(build(seg({ alg: 'dir', enc: 'A256GCM' }))))).toMatchObject(malformed('jwe_part_missing'))
  })

  it('refuses a JWE header without "enc"', () => {
    expect(thrown(() => parse(`${seg({ alg: 'dir' })}..${SIG}.${SIG}.${SIG}`))).toMatchObject(malformed('enc_missing'))
  })

  it.each([
    ['signature (alg none in disguise)', `${HEADER}.${PAYLOAD}.`],
    ['payload', `${HEADER}..${SIG}`],
    ['payload and signature', `${HEADER}..`],
  ])('refuses an empty %s', (_, raw) => {
    expect(thrown(() => parse(raw))).toMatchObject(malformed('jws_part_missing'))
  })

  it('refuses an empty header', () => {
    expect(thrown(() => parse(`.${PAYLOAD}.${SIG}`))).toMatchObject(malformed('header_not_json'))
    expect(thrown(() => parse('..'))).toMatchObject(malformed('header_not_json'))
  })
})

describe('parseToken: parsed headers are kept by their segment', () => {
  it('tokens with one header share one frozen object; the claims stay their own', () => {
    const header = seg({ alg: 'ES256', kid: 'shared-header' })
    const a = parseToken(`${header}.${seg({ sub: 'a' })}.${SIG}`, DEFAULT_MAX_TOKEN_LENGTH)
    const b = parseToken(`${header}.${seg({ sub: 'b' })}.${SIG}`, DEFAULT_MAX_TOKEN_LENGTH)
    expect(b.header).toBe(a.header)
    expect(Object.isFrozen(a.header)).toBe(true)
    // A caller that tried to change the shared header would change it for every token: it cannot.
    expect(() => Object.assign(a.header, { alg: 'none' })).toThrow(TypeError)
    expect(b.header).toEqual({ alg: 'ES256', kid: 'shared-header' })
    expect(a.payload).toEqual({ sub: 'a' })
    expect(b.payload).toEqual({ sub: 'b' })
  })

  it('a flood of distinct headers is parsed right each time and leaves the known ones correct (the store is bounded)', () => {
    const known = seg({ alg: 'RS256', kid: 'known' })
    for (let i = 0; i < 2_000; i++) {
      const header = { alg: 'RS256', kid: `k${i}` }
      expect(parseToken(`${seg(header)}.${PAYLOAD}.${SIG}`, DEFAULT_MAX_TOKEN_LENGTH).header).toEqual(header)
      if (i % 97 === 0)
        expect(parseToken(`${known}.${PAYLOAD}.${SIG}`, DEFAULT_MAX_TOKEN_LENGTH).header).toEqual({ alg: 'RS256', kid: 'known' })
    }
  })

  it('keeps only flat headers: one with an embedded jwk or a deep nesting is parsed each time, its own and unfrozen', () => {
    const jwk = seg({ alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } })
    const a = parseToken(`${jwk}.${PAYLOAD}.${SIG}`, DEFAULT_MAX_TOKEN_LENGTH)
    const b = parseToken(`${jwk}.${PAYLOAD}.${SIG}`, DEFAULT_MAX_TOKEN_LENGTH)
    expect(b.header).not.toBe(a.header)
    expect(Object.isFrozen(a.header)).toBe(false)
    // 100,000 levels of nesting in a 1 MB token: parsed (or refused) without any recursion over it.
    const deep = `{"alg":"RS256","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`
    const header = Buffer.from(deep).toString('base64url')
    let outcome: unknown
    try {
      outcome = parseToken(`${header}.${PAYLOAD}.${SIG}`, 1024 * 1024).header.alg
    } catch (err) {
      outcome = (err as GuardError).code
    }
    expect(['RS256', 'ERR_JWT_MALFORMED']).toContain(outcome)
  })

  it('a header refused once is refused every time: the checks run on the kept header too', () => {
    const bad = seg({ kid: 'no-alg' })
    for (let i = 0; i < 3; i++)
      expect(thrown(() => parseToken(`${bad}.${PAYLOAD}.${SIG}`, DEFAULT_MAX_TOKEN_LENGTH)).code).toBe('ERR_JWT_MALFORMED')
  })
})

describe('parseToken: canonical base64url', () => {
  it.each([
    ['padding on the header', `${seg({ alg: 'RS256', x: 1 })}=.${PAYLOAD}.${SIG}`],
    ['padding on the signature', `${HEADER}.${PAYLOAD}.${seg('si')}==`],
    ['a lone padding character', `${HEADER}.${PAYLOAD}.=`],
    ['a space', `${HEADER}.${PAYLOAD} .${SIG}`],
    ['a leading space', ` ${HEADER}.${PAYLOAD}.${SIG}`],
    ['a newline', `${HEADER}.${PAYLOAD}.${SIG}\n`],
    ['a tab', `${HEADER}\t.${PAYLOAD}.${SIG}`],
    ['"+" (base64, not base64url)', `${HEADER}.${PAYLOAD}.ab+d`],
    ['"/" (base64, not base64url)', `${HEADER}.${PAYLOAD}.ab/d`],
    ['a non-ASCII letter', `${HEADER}.${PAYLOAD}.abcé`],
    // Node's decoder reads a character above 255 by its low byte: "Ł" (U+0141) as "A", "ł" (U+0142) as "B".
    ['"Ł" in the signature, read as "A" by its low byte', `${HEADER}.${PAYLOAD}.\u0141BCD`],
    ['"ł" in the payload, read as "B" by its low byte', `${HEADER}.${PAYLOAD.slice(0, -4)}\u0142${PAYLOAD.slice(-3)}.${SIG}`],
    ['"Ł" in the header', `\u0141${HEADER.slice(1)}.${PAYLOAD}.${SIG}`],
    ['a NUL character', `${HEADER}.${PAYLOAD}.ab\u0000d`],
    ['"=" inside the payload', `${HEADER}.${PAYLOAD.slice(0, 4)}=${PAYLOAD.slice(5)}.${SIG}`],
    ['a length of 4n+1, which no byte string encodes to', `${HEADER}.${PAYLOAD}.AAAAA`],
  ])('refuses %s', (_, raw) => {
    expect(thrown(() => parse(raw))).toMatchObject(malformed('not_base64url'))
  })

  it.each([
    ['2 leftover characters', 'QR', 'QQ'],
    ['3 leftover characters', 'AAF', 'AAE'],
  ])('refuses non-zero unused bits in the last character (%s)', (_, stray, clean) => {
    // Node's decoder ignores those bits: both spellings are the same bytes, so only intake can tell.
    expect(Buffer.from(stray, 'base64url')).toEqual(Buffer.from(clean, 'base64url'))
    expect(thrown(() => parse(`${HEADER}.${PAYLOAD}.${stray}`))).toMatchObject(malformed('not_base64url'))
    expect(parse(`${HEADER}.${PAYLOAD}.${clean}`).segments[2]).toBe(clean)
  })

  it('refuses exactly the segments the base64url rule refuses, in any place (random strings against the rule)', () => {
    // The rule as RFC 7515 states it: the base64url alphabet, no padding, no 4n+1 length, no stray bits at the end.
    const canonical = (s: string): boolean =>
      /^[A-Za-z0-9_-]*$/.test(s) && s.length % 4 !== 1 && Buffer.from(s, 'base64url').toString('base64url') === s
    // Outside the alphabet, with many whose low byte is in it (U+0141 "A", U+0161 "a", U+0130 "0", U+012D "-", …).
    const letters = [...'+/= \t\n\u0000\u007f\u0080\u00c1\u00ff\u0100\ud800\u{1f600}\u0141\u0142\u0161\u0130\u012d\u015f\u0241\u4e41']
    let seed = 7
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
    const header = seg({ alg: 'HS256' })
    let refused = 0
    for (let i = 0; i < 20_000; i++) {
      let s = ''
      const length = random(13)
      for (let j = 0; j < length; j++) s += random(10) > 0 ? ALPHABET[random(64)] : letters[random(letters.length)]
      const place = random(3)
      // The segment under test lands in a token whose other segments are fine (a payload that is JSON once decoded).
      const parts = [header, PAYLOAD, SIG]
      parts[place] = place === 1 ? PAYLOAD + s : s
      const raw = parts.join('.')
      let reason: unknown
      try {
        parse(raw)
      } catch (err) {
        reason = (err as GuardError).context.reason
      }
      const valid = parts.every(canonical)
      if (!valid) refused++
      // A non-canonical segment is always `not_base64url`; a canonical one is never (it may fail on its JSON).
      expect(reason === 'not_base64url', JSON.stringify(raw)).toBe(!valid)
    }
    expect(refused).toBeGreaterThan(5000)
  })

  it('refuses a header whose last character carries stray bits, though it decodes to the same JSON', () => {
    const header = seg({ alg: 'RS256', kid: 'k' })
    expect(header.length % 4).toBe(2)
    const last = header.at(-1)!
    const stray = header.slice(0, -1) + ALPHABET[ALPHABET.indexOf(last) + 1]
    expect(Buffer.from(stray, 'base64url').toString()).toBe('{"alg":"RS256","kid":"k"}')
    expect(thrown(() => parse(`${stray}.${PAYLOAD}.${SIG}`))).toMatchObject(malformed('not_base64url'))
  })
})

describe('parseToken: header and payload JSON', () => {
  it.each([
    ['not JSON', seg('not json'), 'header_not_json'],
    ['truncated JSON', seg('{"alg":"RS256"'), 'header_not_json'],
    ['null', seg('null'), 'header_not_object'],
    ['a string', seg('"RS256"'), 'header_not_object'],
    ['a number', seg('256'), 'header_not_object'],
    ['a JSON array', seg('[{"alg":"RS256"}]'), 'header_not_object'],
  ])('refuses a header that is %s', (_, header, reason) => {
    expect(thrown(() => parse(`${header}.${PAYLOAD}.${SIG}`))).toMatchObject(malformed(reason))
  })

  it.each([
    ['no "alg"', {}],
    ['an empty "alg"', { alg: '' }],
    ['a numeric "alg"', { alg: 256 }],
    ['an array "alg"', { alg: ['RS256'] }],
  ])('refuses a header with %s', (_, header) => {
    expect(thrown(() => parse(`${seg(header)}.${PAYLOAD}.${SIG}`))).toMatchObject(malformed('alg_missing'))
  })

  it.each([
    ['not JSON', seg('foo'), 'payload_not_json'],
    ['invalid UTF-8 bytes', Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url'), 'payload_not_json'],
    ['null', seg('null'), 'payload_not_object'],
    ['a number', seg('1'), 'payload_not_object'],
    ['a JSON array', seg('[{"sub":"x"}]'), 'payload_not_object'],
  ])('refuses a payload that is %s', (_, payload, reason) => {
    expect(thrown(() => parse(`${HEADER}.${payload}.${SIG}`))).toMatchObject(malformed(reason))
  })
})

describe('extractToken: Authorization header', () => {
  const BEARER = new Set(['bearer'])
  const fromHeader = (authorization: string | string[] | undefined, rawHeaders?: string[]) =>
    extractToken({ headers: { authorization }, ...(rawHeaders ? { rawHeaders } : {}) }, ['header'], BEARER)
  const invalidRequest = (reason: string) => ({
    code: 'ERR_REQUEST_INVALID',
    status: 400,
    challenge: 'invalid_request',
    context: { reason },
  })

  it('finds no token when there is no Authorization header', () => {
    expect(fromHeader(undefined)).toBeUndefined()
  })

  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('reads the scheme case-insensitively (%s)', (scheme) => {
    expect(fromHeader(`${scheme} abc.def.ghi`)).toEqual({ token: 'abc.def.ghi', scheme: 'Bearer' })
  })

  it('accepts several spaces after the scheme (RFC 6750: 1*SP) and surrounding whitespace', () => {
    expect(fromHeader('Bearer    abc')).toEqual({ token: 'abc', scheme: 'Bearer' })
    expect(fromHeader('  Bearer abc  ')).toEqual({ token: 'abc', scheme: 'Bearer' })
  })

  it('accepts every b64token character, trailing "=" included', () => {
    expect(fromHeader('Bearer aZ09-._~+/==')?.token).toBe('aZ09-._~+/==')
  })

  it.each([
    ['no credentials', 'Bearer', 'token_empty'],
    ['only spaces after the scheme', 'Bearer    ', 'token_empty'],
    ['two tokens', 'Bearer abc def', 'authorization_syntax'],
    ['two tokens separated by a comma', 'Bearer abc,def', 'authorization_syntax'],
    ['a tab instead of a space', 'Bearer\tabc', 'authorization_syntax'],
    ['"=" inside the token', 'Bearer ab=c', 'authorization_syntax'],
    ['a quote', 'Bearer "abc"', 'authorization_syntax'],
    ['a non-ASCII character', 'Bearer abcé', 'authorization_syntax'],
    ['a semicolon', 'Bearer abc;', 'authorization_syntax'],
    ['a scheme that is not a token', '@Bearer abc', 'authorization_syntax'],
    ['an empty value', '', 'authorization_syntax'],
  ])('refuses %s with a 400', (_, value, reason) => {
    expect(thrown(() => fromHeader(value))).toMatchObject(invalidRequest(reason))
  })

  it('leaves another scheme alone: the request is simply unauthenticated', () => {
    expect(fromHeader('Basic dXNlcjpwYXNz')).toBeUndefined()
    expect(fromHeader('DPoP abc')).toBeUndefined()
  })

  it('reads DPoP when the guard accepts that scheme', () => {
    const found = extractToken({ headers: { authorization: 'dpop abc' } }, ['header'], new Set(['bearer', 'dpop']))
    expect(found).toEqual({ token: 'abc', scheme: 'DPoP' })
  })

  it('refuses two Authorization headers, as an array or seen in rawHeaders', () => {
    expect(thrown(() => fromHeader(['Bearer a', 'Bearer b']))).toMatchObject(invalidRequest('multiple_authorization'))
    // Node keeps only the first Authorization in `headers`; `rawHeaders` still shows both.
    const raw = ['Host', 'x', 'authorization', 'Bearer a', 'AUTHORIZATION', 'Bearer b']
    expect(thrown(() => fromHeader('Bearer a', raw))).toMatchObject(invalidRequest('multiple_authorization'))
    expect(fromHeader('Bearer a', ['Host', 'x', 'Authorization', 'Bearer a'])?.token).toBe('a')
  })
})

describe('extractToken: other sources', () => {
  const BEARER = new Set(['bearer'])
  const find = (request: Partial<GuardRequest>, sources: TokenSource[]) => extractToken({ headers: {}, ...request }, sources, BEARER)

  it('reads a cookie from parsed cookies or from the Cookie header (URI-decoded)', () => {
    expect(find({ cookies: { at: 'tok' } }, [{ cookie: 'at' }])).toEqual({ token: 'tok', scheme: undefined })
    expect(find({ headers: { cookie: 'theme=dark; at=a%2Eb.c; x=1' } }, [{ cookie: 'at' }])?.token).toBe('a.b.c')
    expect(find({ headers: { cookie: 'theme=dark; xat=1' } }, [{ cookie: 'at' }])).toBeUndefined()
    expect(find({ cookies: { at: '' } }, [{ cookie: 'at' }])).toBeUndefined()
  })

  it('reads a query parameter from the parsed query or from the URL', () => {
    expect(find({ query: { access_token: 'tok' } }, [{ query: 'access_token' }])?.token).toBe('tok')
    expect(find({ url: '/things?a=1&access_token=tok' }, [{ query: 'access_token' }])?.token).toBe('tok')
    expect(find({ url: '/things' }, [{ query: 'access_token' }])).toBeUndefined()
    // A non-string query value (e.g. `?access_token[a]=1` parsed by qs) is no token.
    expect(find({ query: { access_token: { a: '1' } } }, [{ query: 'access_token' }])).toBeUndefined()
  })

  it('refuses a query parameter given twice', () => {
    const twice = { code: 'ERR_REQUEST_INVALID', status: 400, context: { reason: 'multiple_tokens' } }
    expect(thrown(() => find({ url: '/x?access_token=a&access_token=b' }, [{ query: 'access_token' }]))).toMatchObject(twice)
    expect(thrown(() => find({ query: { access_token: ['a', 'b'] } }, [{ query: 'access_token' }]))).toMatchObject(twice)
  })

  it('asks a function source, and takes an empty answer as no token', () => {
    const source = (request: GuardRequest) => request.headers['x-token'] as string | undefined
    expect(find({ headers: { 'x-token': 'tok' } }, [source])).toEqual({ token: 'tok', scheme: undefined })
    expect(find({ headers: { 'x-token': '' } }, [source])).toBeUndefined()
  })

  it('takes the one source that has a token, whatever its place in the list', () => {
    const sources: TokenSource[] = ['header', { cookie: 'at' }, { query: 'access_token' }]
    expect(find({ cookies: { at: 'from-cookie' } }, sources)?.token).toBe('from-cookie')
    expect(find({ url: '/?access_token=from-query' }, sources)?.token).toBe('from-query')
  })

  it.each([
    ['header and cookie', { headers: { authorization: 'Bearer a' }, cookies: { at: 'b' } }],
    ['header and query', { headers: { authorization: 'Bearer a' }, url: '/?access_token=b' }],
    ['cookie and query', { cookies: { at: 'a' }, query: { access_token: 'b' } }],
    ['the same token in header and cookie', { headers: { authorization: 'Bearer a' }, cookies: { at: 'a' } }],
  ])('refuses a token sent by two methods (%s) with a 400', (_, request) => {
    const err = thrown(() => find(request, ['header', { cookie: 'at' }, { query: 'access_token' }]))
    expect(err).toMatchObject({ code: 'ERR_REQUEST_INVALID', status: 400, context: { reason: 'multiple_tokens' } })
  })
})
