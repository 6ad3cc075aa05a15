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

/** A warm-up pass over the pool (JIT, key imports, and for cached variants the cache fill), then `runs` timed runs. */
export async function measureCell(
  verify: Verify,
  tokens: readonly string[],
  count: number,
  concurrency: number,
  runs = 3,
): Promise<{ opsPerSec: number; runs: number[] }> {
  await opsPerSecond(verify, tokens, Math.min(count, tokens.length), concurrency)
  const results: number[] = []
  for (let i = 0; i < runs; i++) results.push(await opsPerSecond(verify, tokens, count, concurrency))
  return { opsPerSec: median(results), runs: results }
}
