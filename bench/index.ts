import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { runHttp } from './http.js'
import { runMemory } from './memory.js'
import { runMicro } from './micro.js'
import { runHostile } from './hostile.js'
import { runGateway } from './gateway.js'
import { runRevocation } from './revocation.js'
import { BASELINE_ENV, VARIANTS, type Framework } from './servers/protocol.js'
import { machineInfo, writeResults, type SuiteResult } from './report.js'

/**
 * `npm run bench [-- --only micro|http|memory|hostile|gateway|revocation] [-- --quick]
 * [-- --frameworks express4,express,koa2,koa,fastify4,fastify] [-- --variants jwtguard-nocache,express-jwt]`: runs the suites
 * in sequence, prints a table per suite and writes `bench/results/`. Every
 * figure is a ratio measured side by side in this one run: compare ratios,
 * not absolute numbers, across machines.
 */

const SUITES = {
  micro: runMicro,
  http: (o: { quick: boolean }) => runHttp({ ...o, frameworks: httpFrameworks(), variants: values.variants?.split(',') }),
  memory: runMemory,
  hostile: runHostile,
  // nginx auth_request in front of jwtguard serve, and the decision endpoint alone (needs nginx).
  gateway: runGateway,
  revocation: runRevocation,
} as const
type SuiteName = keyof typeof SUITES

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    // HTTP suite only: a subset of framework versions (express4, express = 5, koa2, koa = 3, fastify4, fastify = 5)
    // and of variants, for a focused rerun.
    frameworks: { type: 'string' },
    variants: { type: 'string' },
    // Another built checkout of jwtguard (e.g. a git worktree of main before a change, after npm run build):
    // its jwtguard runs beside this one, in the same interleaved rounds (variants baseline, baseline-nocache).
    baseline: { type: 'string' },
  },
})
if (values.baseline) {
  const dir = resolve(values.baseline)
  if (!existsSync(`${dir}/dist/src/index.js`)) throw new Error(`--baseline: no built jwtguard in ${dir} (run npm run build there)`)
  process.env[BASELINE_ENV] = dir
}
const only = values.only?.split(',') ?? Object.keys(SUITES)
const unknown = only.filter((name) => !(name in SUITES))
if (unknown.length > 0) throw new Error(`--only: unknown suite(s) ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`)
const quick = values.quick

function httpFrameworks(): Framework[] {
  const asked = values.frameworks?.split(',') ?? Object.keys(VARIANTS)
  const unknownFramework = asked.filter((f) => !(f in VARIANTS))
  if (unknownFramework.length > 0)
    throw new Error(`--frameworks: unknown ${unknownFramework.join(', ')}; known: ${Object.keys(VARIANTS).join(', ')}`)
  return asked as Framework[]
}

const startedAt = new Date()
const machine = machineInfo()
console.log(`jwtguard bench · ${machine.cpu} · ${machine.cores} cores · Node ${machine.node} · ${machine.totalMemoryGiB} GiB`)
console.log(`load average at start: ${machine.loadAverage.join(' ')}${quick ? ' · --quick: short runs, indicative only' : ''}\n`)

const results: SuiteResult[] = []
for (const name of only as SuiteName[]) {
  console.log(`== ${name}`)
  const result = await SUITES[name]({ quick })
  results.push(result)
  console.log(`\n${result.tables.join('\n\n')}\n`)
  for (const note of result.notes) console.log(note)
  console.log()
}
for (const file of await writeResults(results, quick, startedAt)) console.log(`wrote ${file}`)
