import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launch } from '../../bench/servers/launch.js'
import { ROUTE, VARIANTS, type Framework } from '../../bench/servers/protocol.js'
import { createFixtures, JWE_KINDS, JWS_ALGS, serverConfig, SUB, type Fixtures } from '../../bench/setup.js'
import { jweVariants, jwsVariants, type Variant } from '../../bench/verifiers.js'

// A smoke test of the benchmark harness, not a benchmark: no timing. It proves
// each benchmarked verifier accepts the tokens it is timed on (a benchmark of
// rejections is worthless) and refuses a forged one (a verifier that checks
// nothing would be just as worthless), and that every bench server answers.

let f: Fixtures
beforeAll(async () => {
  f = await createFixtures()
})
afterAll(async () => {
  await f?.close()
})

/** Flips one bit of the last segment: the signature of a JWS, the authentication tag of a JWE. */
function forge(token: string): string {
  const parts = token.split('.')
  const last = Buffer.from(parts.at(-1)!, 'base64url')
  last[0]! ^= 1
  parts[parts.length - 1] = last.toString('base64url')
  return parts.join('.')
}

/** What each library throws for a bad signature or tag, by the prefix of the variant's name. */
const REFUSALS: [prefix: string, jws: Record<string, unknown>, jwe?: Record<string, unknown>][] = [
  ['node:crypto', { message: 'floor: invalid signature' }],
  ['jose', { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }, { code: 'ERR_JWE_DECRYPTION_FAILED' }],
  ['fast-jwt', { code: 'FAST_JWT_INVALID_SIGNATURE' }],
  ['aws-jwt-verify', { type: 'JwtInvalidSignatureError', message: 'Invalid signature' }],
  ['jwtguard', { code: 'ERR_JWT_SIGNATURE_INVALID', status: 401 }, { code: 'ERR_JWE_DECRYPTION_FAILED', status: 401 }],
]

/** The error a verifier throws, as `{ type, code, message, status }`. */
async function refusal(variant: Variant, token: string): Promise<Record<string, unknown>> {
  try {
    await variant.verify(token)
  } catch (err) {
    const { code, message, status } = err as { code?: string; message: string; status?: number }
    return { type: (err as object).constructor.name, code, message, status }
  }
  throw new Error(`${variant.name} accepted a forged token`)
}

async function expectVerifies(variants: Variant[], token: string, encrypted: boolean): Promise<void> {
  for (const variant of variants) {
    expect({ variant: variant.name, sub: await variant.verify(token) }).toEqual({ variant: variant.name, sub: SUB })
    const [, jws, jwe] = REFUSALS.find(([prefix]) => variant.name.startsWith(prefix))!
    const err = await refusal(variant, forge(token))
    expect({ variant: variant.name, err }).toMatchObject({ variant: variant.name, err: encrypted ? jwe! : jws })
  }
}

describe('micro-suite verifiers', () => {
  it.each(JWS_ALGS)('%s: every library verifies a bench token (right sub) and refuses a forged one', async (alg) => {
    const variants = await jwsVariants(f, alg)
    expect(variants.map((v) => v.name)).toEqual([
      'node:crypto (floor)',
      'jose jwtVerify',
      'fast-jwt',
      'fast-jwt (cache hit)',
      ...(alg === 'HS256' || alg === 'PS256' ? [] : ['aws-jwt-verify']),
      'jwtguard (cache off)',
      'jwtguard (cache hit)',
    ])
    const [token] = await f.tokens(alg, 1)
    await expectVerifies(variants, token!, false)
  })

  it.each(JWE_KINDS)('JWE %s + A256GCM: jose and jwtguard verify a nested bench token and refuse a tampered one', async (kind) => {
    const variants = await jweVariants(f, kind)
    expect(variants.map((v) => v.name)).toEqual(['jose compactDecrypt + jwtVerify', 'jwtguard (cache off)', 'jwtguard (cache hit)'])
    const [token] = await f.jweTokens(kind, 1)
    await expectVerifies(variants, token!, true)
  })
})

const MAJORS: Record<Framework, string> = { express4: '4', express: '5', koa2: '2', koa: '3', fastify4: '4', fastify: '5' }

describe('bench servers', () => {
  it.each(Object.keys(VARIANTS) as Framework[])('%s: every variant answers 200 with a valid token and 401 without', async (framework) => {
    const [token] = await f.tokens('RS256', 1)
    const server = await launch(framework, VARIANTS[framework], serverConfig(f))
    try {
      // Each name loads its own major (express4 → 4.x, express → 5.x …), not whatever `express` resolves to.
      expect(server.version.split('.')[0]).toBe(MAJORS[framework])
      for (const variant of VARIANTS[framework]) {
        const url = `http://127.0.0.1:${server.ports[variant]}${ROUTE}`
        const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
        expect({ variant, status: ok.status, body: await ok.json() }).toEqual({
          variant,
          status: 200,
          body: { sub: variant === 'bare' ? 'anonymous' : SUB },
        })
        const none = await fetch(url)
        await none.arrayBuffer()
        // bare and noop-guard check nothing: they answer 200 without a token.
        const open = variant === 'bare' || variant === 'noop-guard'
        expect({ variant, status: none.status }).toEqual({ variant, status: open ? 200 : 401 })
      }
      const stats = await server.stats()
      expect(stats.rss).toBeGreaterThan(0)
      expect(stats.eventLoopMaxMs).toBeGreaterThanOrEqual(0)
      // The longest GC pause is reported (0 until a collection ran): the soak prints it beside the event-loop delay.
      expect(typeof stats.gcMaxMs).toBe('number')
      expect(stats.gcMaxMs >= 0 && Number.isFinite(stats.gcMaxMs)).toBe(true)
    } finally {
      await server.stop()
    }
    expect(server.alive()).toBe(false)
  })
})

describe('the floor checks the claims, as every verifier must', () => {
  it.each(JWS_ALGS)('%s: refuses an expired token, another issuer, another audience, a future nbf and another alg', async (alg) => {
    const [floor] = await jwsVariants(f, alg)
    const now = Math.floor(Date.now() / 1000)
    const cases = [
      [{ exp: now - 10 }, /expired/],
      [{ iss: 'https://other.example' }, /issuer/],
      [{ aud: 'other' }, /audience/],
      [{ nbf: now + 600 }, /not yet valid/],
    ] as const
    for (const [claims, reason] of cases) {
      const token = await f.issuer.sign({ sub: SUB, ...claims }, { alg })
      expect(() => floor!.verify(token)).toThrow(reason)
    }
    const other = await f.issuer.sign({ sub: SUB }, { alg: alg === 'HS256' ? 'RS256' : 'HS256' })
    expect(() => floor!.verify(other)).toThrow(/alg/)
  })
})

describe('micro rounds are interleaved (no timing asserted: the order and the bookkeeping)', () => {
  it('warms every variant once, then runs each once per round, each round starting with the next variant', async () => {
    const { measureInterleaved, spreadOf } = await import('../../bench/measure.js')
    const calls: string[] = []
    const cell = (name: string, count: number) => ({
      count,
      verify: async (token: string) => {
        calls.push(`${name}:${token}`)
        return token
      },
    })
    const measured = await measureInterleaved([cell('a', 2), cell('b', 2), cell('c', 2)], ['t1', 't2'], 1, 3)
    // Warm-up: each variant over the pool once; then rounds a b c, b c a, c a b (two calls each).
    const order = calls.filter((_, i) => i % 2 === 0).map((c) => c.split(':')[0])
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b'])
    expect(measured).toHaveLength(3)
    for (const { opsPerSec, runs } of measured) {
      expect(runs).toHaveLength(3)
      expect(opsPerSec).toBe([...runs].sort((x, y) => x - y)[1])
    }
    expect(spreadOf([100, 125, 110])).toBeCloseTo(0.25)
  })

  it('a ratio is the median of the rounds own ratios, not the ratio of two medians', async () => {
    const { pairedRatio } = await import('../../bench/measure.js')
    // Rounds 1 and 2 in a slow spell for both: the variant is at half the floor in each of them.
    expect(pairedRatio([50, 100, 100], [100, 200, 100])).toBe(0.5)
    expect(pairedRatio([90, 45, 180], [100, 50, 200])).toBeCloseTo(0.9)
  })
})

describe('npm run bench:paired refuses what it cannot measure, before any work', () => {
  const run = async (...args: string[]) => {
    const { execFile } = await import('node:child_process')
    return new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'bench/paired.ts', ...args], { timeout: 30_000 }, (err, _out, stderr) =>
        resolve({ code: err ? (child.exitCode ?? 1) : 0, stderr }),
      )
    })
  }

  it.each([
    [['HS256', '--rounds', 'many'], /--rounds 3–1000/],
    [['HS256', '--in-flight', '0'], /--in-flight 1–256/],
    [['HS256', '--in-flight', '1e9'], /--in-flight 1–256/],
    [['HS999,RS256'], /unknown algorithm\(s\) HS999/],
  ])('%j', async (args, message) => {
    const { code, stderr } = await run(...args)
    expect(code).not.toBe(0)
    expect(stderr).toMatch(message)
  })
})
