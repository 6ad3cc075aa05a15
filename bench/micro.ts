import { measureInterleaved, pairedRatio, spreadOf } from './measure.js'
import { table, type SuiteResult } from './report.js'
import { createFixtures, JWE_KINDS, JWS_ALGS, SUB } from './setup.js'
import { jweVariants, jwsVariants, type Variant } from './verifiers.js'

/**
 * Micro suite: `guard.verify` cold (cache off, every call verifies) and hot
 * (cache hits on a pool of 1,000 tokens), side by side in one run with the
 * node:crypto floor and the peer libraries, at 1 and 32 verifications in flight.
 */

export interface MicroFigure {
  case: string
  variant: string
  hot: boolean
  concurrency: number
  count: number
  opsPerSec: number
  runs: number[]
  /** The row this one is compared to (same case, same concurrency), and the ratio: the median of the rounds' own ratios. */
  baseline: string
  ratio: number
}

const POOL = 1_000
const CONCURRENCY = [1, 32] as const
/** Interleaved rounds per cell (every variant once per round); the table gives their median. */
const ROUNDS = 5

interface Case {
  name: string
  tokens: string[]
  variants: Variant[]
  /** Operations per cold cell: ES384 verification and RSA-OAEP decryption cost about 1 ms each, so their cells are shorter. */
  coldCount: number
  baseline: string
}

async function cases(quick: boolean, f: Awaited<ReturnType<typeof createFixtures>>): Promise<Case[]> {
  const scale = quick ? 10 : 1
  const out: Case[] = []
  for (const alg of JWS_ALGS) {
    out.push({
      name: alg,
      tokens: await f.tokens(alg, POOL),
      variants: await jwsVariants(f, alg),
      // ES384 costs about 1 ms a check: its cells are shorter, as RSA-OAEP's.
      coldCount: (alg === 'ES384' ? 1_200 : 12_000) / scale,
      baseline: 'node:crypto (floor)',
    })
  }
  for (const kind of JWE_KINDS) {
    out.push({
      name: `JWE ${kind} + A256GCM (inner RS256)`,
      tokens: await f.jweTokens(kind, POOL),
      variants: await jweVariants(f, kind),
      coldCount: (kind === 'dir' ? 12_000 : 1_200) / scale,
      baseline: 'jose compactDecrypt + jwtVerify',
    })
  }
  return out
}

/** Once per library: the first token must verify and give back the right `sub`. */
async function checkVerifies(c: Case): Promise<void> {
  for (const v of c.variants) {
    const sub = await v.verify(c.tokens[0]!)
    if (sub !== SUB) throw new Error(`${c.name} / ${v.name}: expected sub ${SUB}, got ${String(sub)}`)
  }
}

export async function runMicro({ quick = false, log = console.log } = {}): Promise<SuiteResult> {
  const hotCount = quick ? 12_000 : 120_000
  const f = await createFixtures()
  const figures: MicroFigure[] = []
  const tables: string[] = []
  try {
    for (const c of await cases(quick, f)) {
      await checkVerifies(c)
      const rows: MicroFigure[] = []
      for (const concurrency of CONCURRENCY) {
        const cells = c.variants.map((v) => ({ verify: v.verify, count: v.hot ? hotCount : c.coldCount }))
        log(`  micro ${c.name} · c=${concurrency} · ${c.variants.length} variants in ${ROUNDS} interleaved rounds`)
        const measured = await measureInterleaved(cells, c.tokens, concurrency, ROUNDS)
        c.variants.forEach((v, i) => {
          const { opsPerSec, runs } = measured[i]!
          const count = cells[i]!.count
          rows.push({ case: c.name, variant: v.name, hot: v.hot, concurrency, count, opsPerSec, runs, baseline: c.baseline, ratio: 0 })
        })
      }
      for (const row of rows) {
        const base = rows.find((r) => r.variant === c.baseline && r.concurrency === row.concurrency)!
        row.ratio = pairedRatio(row.runs, base.runs)
      }
      figures.push(...rows)
      tables.push(renderCase(c, rows))
    }
  } finally {
    await f.close()
  }
  return {
    suite: 'micro',
    figures,
    tables,
    notes: [
      'Ratios are to the first row of each table at the same concurrency, the median of the ratios within each round: the node:crypto floor (split, decode and parse, alg check,',
      'sync verify with a KeyObject prepared once, then exp/nbf/iat/iss/aud) for JWS, plain jose for JWE.',
      '"cache hit" rows cycle a pool of 1,000 tokens.',
    ],
  }
}

const times = (value: number): string => `${value.toFixed(2)}x`

function renderCase(c: Case, rows: MicroFigure[]): string {
  const at = (variant: string, concurrency: number) => rows.find((r) => r.variant === variant && r.concurrency === concurrency)!
  return table(
    `micro · ${c.name}`,
    ['verifier', 'c=1 ops/s', 'ratio', 'spread', 'c=32 ops/s', 'ratio', 'spread'],
    c.variants.map((v) => {
      const one = at(v.name, 1)
      const many = at(v.name, 32)
      const spread = (row: MicroFigure) => `${Math.round(spreadOf(row.runs) * 100)}%`
      return [v.name, one.opsPerSec, times(one.ratio), spread(one), many.opsPerSec, times(many.ratio), spread(many)]
    }),
  )
}
