import { randomBytes } from 'node:crypto'
import { createGuard, GuardError } from 'jwtguard'
import { createTestIssuer } from 'jwtguard/testing'
import { table, type SuiteResult } from './report.js'

/**
 * How quickly hostile tokens are refused (issues 2 and 4): each is refused
 * before any expensive work, so the time is the intake's, not the crypto's.
 * Median of many runs per token, in milliseconds.
 */

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

async function refusalMs(verify: (t: string) => Promise<unknown>, token: string, runs: number): Promise<{ ms: number; code: string }> {
  const times: number[] = []
  let code = ''
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    try {
      await verify(token)
      throw new Error('hostile token accepted')
    } catch (err) {
      if (!(err instanceof GuardError)) throw err
      code = err.code
    }
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return { ms: times[Math.floor(times.length / 2)]!, code }
}

export async function runHostile({ quick }: { quick: boolean }): Promise<SuiteResult> {
  const issuer = await createTestIssuer()
  const runs = quick ? 20 : 200
  try {
    const guard = createGuard({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      decryption: { keys: randomBytes(32) },
    })
    await guard.ready()
    const valid = await issuer.sign()
    const [h, p] = valid.split('.')
    const nested = '['.repeat(6000) + ']'.repeat(6000)
    const tokens: [string, string][] = [
      ['2 MB token', 'a'.repeat(2 * 1024 * 1024)],
      ['alg: none, empty signature', `${b64({ alg: 'none' })}.${p}.`],
      ['padding in a segment', `${h}=.${p}.AAAA`],
      ['deeply nested payload (8 KiB)', `${h}.${Buffer.from(nested.slice(0, 5000)).toString('base64url')}.AAAA`],
      [
        'PBES2 p2c 2,000,000,000',
        `${b64({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 2_000_000_000, p2s: 'AAAAAAAAAAAAAAAAAAAAAA' })}.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA`,
      ],
      ['zip: DEF JWE', `${b64({ alg: 'dir', enc: 'A256GCM', zip: 'DEF' })}..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA`],
      ['unknown kid (keys held)', `${b64({ alg: 'RS256', kid: 'nope' })}.${p}.${valid.split('.')[2]}`],
    ]
    const rows: (string | number)[][] = []
    const figures: unknown[] = []
    for (const [name, token] of tokens) {
      const { ms, code } = await refusalMs((t) => guard.verify(t), token, runs)
      rows.push([name, code, ms.toFixed(3)])
      figures.push({ name, code, medianMs: ms })
    }
    return {
      suite: 'hostile',
      figures,
      tables: [table(`hostile tokens · median refusal time of ${runs} runs`, ['token', 'code', 'ms'], rows)],
      notes: ['Refusals happen at intake or at the allow-lists: no hostile token reaches decompression, PBES2 or a network fetch.'],
    }
  } finally {
    await issuer.close()
  }
}
