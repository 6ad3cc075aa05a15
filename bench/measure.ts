import type { Verify } from './verifiers.js'

/**
 * Runs `count` verifications over `tokens` (cycled) with `concurrency`
 * verifications in flight, and returns the throughput in ops/s. A rejection
 * aborts the run: a benchmark of a verifier that refuses is worthless.
 */
export async function opsPerSecond(verify: Verify, tokens: readonly string[], count: number, concurrency: number): Promise<number> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) await verify(tokens[next++ % tokens.length]!)
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return count / ((performance.now() - started) / 1000)
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Every variant of one cell measured in interleaved rounds: each warmed up once (JIT, key imports, and for cached
 * variants the cache fill), then `rounds` rounds in which every variant runs once, each round starting with another
 * variant. A noisy second on a shared machine then hits every variant alike, and the ratios between them hold.
 * Returns each variant's median and its rounds, in the order given.
 */
export async function measureInterleaved(
  cells: readonly { verify: Verify; count: number }[],
  tokens: readonly string[],
  concurrency: number,
  rounds = 3,
): Promise<{ opsPerSec: number; runs: number[] }[]> {
  for (const { verify, count } of cells) await opsPerSecond(verify, tokens, Math.min(count, tokens.length), concurrency)
  const results: number[][] = cells.map(() => [])
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < cells.length; k++) {
      const index = (k + round) % cells.length
      const { verify, count } = cells[index]!
      results[index]!.push(await opsPerSecond(verify, tokens, count, concurrency))
    }
  }
  return results.map((runs) => ({ opsPerSec: median(runs), runs }))
}

/** How far apart a cell's rounds were: max ÷ min − 1 (0.12 = the fastest round was 12% faster than the slowest). */
export const spreadOf = (runs: readonly number[]): number => Math.max(...runs) / Math.min(...runs) - 1

/**
 * A variant's ratio to the baseline row of its cell: the median of the ratios within each round (`runs[r] ÷
 * base[r]`), both measured seconds apart. A slow spell of a shared machine that spans a round lowers both figures of
 * that round and leaves its ratio; the ratio of the two medians could take them from different spells.
 */
export const pairedRatio = (runs: readonly number[], base: readonly number[]): number =>
  median(runs.map((value, round) => value / base[round]!))
