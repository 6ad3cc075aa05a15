import { parseArgs } from 'node:util'
import { measureInterleaved, median, opsPerSecond, pairedRatio } from './measure.js'
import { BASELINE_ENV } from './servers/protocol.js'
import { createFixtures, JWS_ALGS, type JwsAlg } from './setup.js'
import { jwsVariants } from './verifiers.js'

/**
 * `npm run bench:paired -- [ALG,…] [--baseline DIR] [--in-flight N] [--rounds R]`: the floor, jwtguard cold and (with
 * `--baseline`) another built checkout's jwtguard cold, in many short rotating rounds, for a before/after of a few
 * µs that the micro suite's 5 rounds cannot resolve on a noisy machine. Prints per algorithm the median µs per
 * verification, the median of the rounds' ratios to the floor, and the median of the rounds' differences
 * jwtguard − baseline in µs.
 */

const ROUND_MS = 150
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { baseline: { type: 'string' }, 'in-flight': { type: 'string' }, rounds: { type: 'string' } },
})
if (values.baseline) process.env[BASELINE_ENV] = values.baseline
const algs = (positionals[0]?.split(',') ?? ['RS256', 'ES256', 'HS256']) as JwsAlg[]
const unknown = algs.filter((a) => !JWS_ALGS.includes(a))
if (unknown.length > 0) throw new Error(`unknown algorithm(s) ${unknown.join(', ')}; known: ${JWS_ALGS.join(', ')}`)
const inFlight = Number(values['in-flight'] ?? 1)
const rounds = Number(values.rounds ?? 31)
if (!(inFlight >= 1 && inFlight <= 256 && rounds >= 3 && rounds <= 1_000)) throw new Error('--in-flight 1–256, --rounds 3–1000')

const f = await createFixtures()
try {
  for (const alg of algs) {
    const tokens = await f.tokens(alg, 1_000)
    const names = ['node:crypto (floor)', 'jwtguard (cache off)', 'baseline (cache off)']
    const variants = (await jwsVariants(f, alg)).filter((v) => names.includes(v.name))
    // A round of each variant lasts about ROUND_MS: sized from the floor over the pool once.
    const count = Math.max(50, Math.round((ROUND_MS / 1000) * (await opsPerSecond(variants[0]!.verify, tokens, tokens.length, inFlight))))
    // ops/s per round, in the order of `variants`; shown in µs per verification.
    const results = (
      await measureInterleaved(
        variants.map((v) => ({ verify: v.verify, count })),
        tokens,
        inFlight,
        rounds,
      )
    ).map((r) => r.runs)
    const micros = (ops: number): number => 1e6 / ops
    const floor = results[0]!
    const cells = variants.map((v, i) => {
      const ratio = pairedRatio(results[i]!, floor)
      return `${v.name} ${median(results[i]!.map(micros)).toFixed(2)} µs, ${ratio.toFixed(3)}x the floor`
    })
    const diff = results[2]
      ? ` | jwtguard − baseline ${median(results[1]!.map((ops, r) => micros(ops) - micros(results[2]![r]!))).toFixed(2)} µs`
      : ''
    console.log(`${alg}, ${inFlight} in flight, ${rounds} rounds of ${count}: ${cells.join(' | ')}${diff}`)
  }
} finally {
  await f.close()
}
