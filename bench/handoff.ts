import { createVerify, verify } from 'node:crypto'
import { createFixtures } from './setup.js'

/**
 * What a signature check costs where it runs: `npm run bench:handoff`.
 * RS256 with node:crypto alone (no jwtguard): synchronously on the event loop
 * (one-shot and `Verify` forms), and on libuv's thread pool (the callback form)
 * with 1, 4 and 32 checks in flight. CPU is the whole process (all threads) per
 * check; wall is elapsed time per check. The gap between the pool at 1 in flight
 * and the synchronous form is the price of waking a pool thread and hearing back
 * from it, which is why src/verify/signature.ts runs RSA checks inline.
 */

const CHECKS = 20_000
const ROUNDS = 3

const f = await createFixtures()
const key = f.keys.RS256.keyObject
const parts = (await f.tokens('RS256', 1_000)).map((token) => {
  const dot = token.lastIndexOf('.')
  return { data: Buffer.from(token.slice(0, dot), 'latin1'), signature: Buffer.from(token.slice(dot + 1), 'base64url') }
})

async function measure(inFlight: number, check: (i: number) => boolean | Promise<boolean>): Promise<{ cpu: number; wall: number }> {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < CHECKS) if (!(await check(next++ % parts.length))) throw new Error('a valid bench token did not verify')
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  const cpu = process.cpuUsage(cpu0)
  return { cpu: (cpu.user + cpu.system) / CHECKS, wall: ((performance.now() - t0) * 1000) / CHECKS }
}

const pooled = (i: number): Promise<boolean> =>
  new Promise((resolve, reject) =>
    verify('sha256', parts[i]!.data, key, parts[i]!.signature, (err, ok) => (err ? reject(err) : resolve(ok))),
  )

const cells: [string, number, (i: number) => boolean | Promise<boolean>][] = [
  ['event loop, one-shot crypto.verify', 1, (i) => verify('sha256', parts[i]!.data, key, parts[i]!.signature)],
  ['event loop, Verify object', 1, (i) => createVerify('sha256').update(parts[i]!.data).verify(key, parts[i]!.signature)],
  ['thread pool, 1 in flight', 1, pooled],
  ['thread pool, 4 in flight', 4, pooled],
  ['thread pool, 32 in flight', 32, pooled],
]

console.log(`RS256 check, ${CHECKS.toLocaleString('en-US')} per cell, ${ROUNDS} rounds (µs per check: CPU of all threads / wall)`)
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, inFlight, check] of cells) {
    const { cpu, wall } = await measure(inFlight, check)
    console.log(`round ${round}  ${name.padEnd(36)} ${cpu.toFixed(1).padStart(6)} CPU  ${wall.toFixed(1).padStart(6)} wall`)
  }
}
await f.close()
