import { createHmac } from 'node:crypto'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * `node --import tsx bench/cold-serial.ts [DIR …]`: µs per `guard.verify` with the cache off, one at a time, for the
 * jwtguard built in each DIR (default: this checkout). HS256, so the signature costs little and the guard's own
 * per-token work shows; run two checkouts alternately to compare them on one machine.
 */
const dirs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['.']
const secret = 'x'.repeat(48)
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
const now = Math.floor(Date.now() / 1000)
const tokens = Array.from({ length: 2000 }, (_, i) => {
  const claims = { iss: 'https://i.example/', aud: 'api', sub: `u${i}`, iat: now, exp: now + 3600, jti: `j${i}`, scope: 'a b c' }
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
})
const N = 60_000

for (const dir of dirs) {
  const { createGuard } = (await import(pathToFileURL(resolve(dir, 'dist/src/index.js')).href)) as typeof import('jwtguard')
  const guard = createGuard({ issuer: 'https://i.example/', audience: 'api', secret, cache: false })
  for (const t of tokens) await guard.verify(t)
  const started = performance.now()
  for (let i = 0; i < N; i++) await guard.verify(tokens[i % tokens.length]!)
  console.log(`${resolve(dir)}: ${(((performance.now() - started) * 1000) / N).toFixed(2)} µs per cold verify (HS256, serial)`)
}
