import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { documentedBlock, gatewayBinary, withPorts } from '../test/serve/gateways.js'
import { freePort } from '../test/helpers/shared.js'
import { median } from './measure.js'
import { ratio, table, type SuiteResult } from './report.js'
import { createFixtures } from './setup.js'

/**
 * Gateway suite: `jwtguard serve` behind nginx `auth_request` (the documented
 * config), against nginx proxying with no auth, and the decision endpoint alone
 * against a bare `node:http` handler. Every server runs in its own process; the
 * variants are measured in interleaved rounds and reported as the median.
 * "cold" is a decision service with its token cache off: every request verifies
 * an RS256 signature.
 */

const CONNECTIONS = 50
const ROUNDS = 3
const ROUND_SECONDS = 4
const POOL = 1_000
/** The target: the decision endpoint on cache hits at ≥ 0.7× the bare handler. */
const TARGET = 0.7
const repo = fileURLToPath(new URL('../', import.meta.url))

interface Variant {
  name: string
  port: number
  path: string
  /** The row its ratio is taken against. */
  base: string
  /** The process whose CPU per request is reported (the node processes answering the load directly). */
  pid?: number | undefined
}

interface GatewayFigure {
  variant: string
  reqPerSec: number
  rounds: number[]
  latencyP99Ms: number
  non2xx: number
  errors: number
  ratioToBase: number
  base: string
  /** CPU (user + system) of `pid` per request over the measured rounds, in µs: steadier than req/s on a busy machine. */
  cpuUsPerRequest: number
}

/** CPU time of a process so far, in µs, from /proc (Linux, 100 clock ticks a second); NaN elsewhere. */
function cpuUs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100
  } catch {
    return Number.NaN
  }
}

interface Proc {
  port: number
  child: ChildProcess
}

/** Spawns a process that prints its port as the first JSON line on stdout (`{ "port": … }`). */
async function spawnListening(args: string[]): Promise<Proc> {
  const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] })
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no port within 30 s`)), 30_000)
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer)
      resolve(l)
    })
  })
  return { port: (JSON.parse(line) as { port: number }).port, child }
}

const LISTEN = `.listen(0, '127.0.0.1', function () { console.log(JSON.stringify({ port: this.address().port })) })`
/** The upstream behind nginx: a small JSON body. */
const UPSTREAM = `require('node:http').createServer((q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))${LISTEN}`
/** The baseline of the decision endpoint: a handler that answers 200 with nothing, as fast as node:http goes. */
const BARE = `require('node:http').createServer((q, s) => s.writeHead(200).end())${LISTEN}`

async function startNginx(dir: string, ports: { upstream: number; cached: number; cold: number }) {
  const binary = gatewayBinary('nginx')
  if (!binary) throw new Error('the gateway suite needs nginx (apt-get install nginx)')
  const listen = { bare: await freePort(), cached: await freePort(), cold: await freePort() }
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub))
  const block = documentedBlock('nginx')
  const cold = withPorts(block, { gateway: listen.cold, jwtguard: ports.cold, upstream: ports.upstream })
    .replace('upstream jwtguard {', 'upstream jwtguard_cold {')
    .replace('http://jwtguard/verify', 'http://jwtguard_cold/verify')
  const conf = [
    process.getuid?.() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
    `  server { listen 127.0.0.1:${listen.bare}; location / { proxy_pass http://127.0.0.1:${ports.upstream}; } }`,
    withPorts(block, { gateway: listen.cached, jwtguard: ports.cached, upstream: ports.upstream }),
    cold,
    '}',
  ].join('\n')
  await writeFile(join(dir, 'nginx.conf'), conf)
  const child = spawn(binary, ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'ignore',
  })
  await sleep(500)
  if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): see ${dir}/error.log`)
  return { child, listen }
}

async function load(variant: Variant, tokens: readonly string[], seconds: number) {
  let next = 0
  return autocannon({
    url: `http://127.0.0.1:${variant.port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        path: variant.path,
        setupRequest: (request) => ({
          ...request,
          headers: {
            ...request.headers,
            'x-original-method': 'GET',
            'x-original-uri': '/orders/1',
            authorization: `Bearer ${tokens[next++ % tokens.length]}`,
          },
        }),
      },
    ],
  })
}

export async function runGateway({
  quick = false,
  log = console.log,
}: { quick?: boolean; log?: (line: string) => void } = {}): Promise<SuiteResult> {
  const rounds = quick ? 2 : ROUNDS
  const seconds = quick ? 2 : ROUND_SECONDS
  const f = await createFixtures()
  const dir = await mkdtemp(join(tmpdir(), 'jwtguard-bench-gateway-'))
  const procs: ChildProcess[] = []
  try {
    const tokens = await f.tokens('RS256', POOL)
    const guard = { issuer: f.iss, audience: f.aud, jwksUri: f.issuer.jwksUri }
    await writeFile(join(dir, 'cached.json'), JSON.stringify({ listen: { port: 0 }, guard }))
    await writeFile(join(dir, 'cold.json'), JSON.stringify({ listen: { port: 0 }, guard: { ...guard, cache: false } }))
    const cli = join(repo, 'dist/src/cli.js')
    const upstream = await spawnListening(['-e', UPSTREAM])
    const bare = await spawnListening(['-e', BARE])
    const cached = await spawnListening([cli, 'serve', '--config', join(dir, 'cached.json')])
    const cold = await spawnListening([cli, 'serve', '--config', join(dir, 'cold.json')])
    procs.push(upstream.child, bare.child, cached.child, cold.child)
    const nginx = await startNginx(dir, { upstream: upstream.port, cached: cached.port, cold: cold.port })
    procs.push(nginx.child)

    const variants: Variant[] = [
      { name: 'nginx → upstream (no auth)', port: nginx.listen.bare, path: '/orders/1', base: 'nginx → upstream (no auth)' },
      { name: 'nginx auth_request → serve, cache hits', port: nginx.listen.cached, path: '/orders/1', base: 'nginx → upstream (no auth)' },
      { name: 'nginx auth_request → serve, cold', port: nginx.listen.cold, path: '/orders/1', base: 'nginx → upstream (no auth)' },
      { name: 'bare node:http handler', port: bare.port, path: '/verify', base: 'bare node:http handler', pid: bare.child.pid },
      { name: 'decision endpoint, cache hits', port: cached.port, path: '/verify', base: 'bare node:http handler', pid: cached.child.pid },
      { name: 'decision endpoint, cold', port: cold.port, path: '/verify', base: 'bare node:http handler', pid: cold.child.pid },
    ]
    const runs = new Map(variants.map((v) => [v.name, [] as Awaited<ReturnType<typeof load>>[]]))
    const cpu = new Map(variants.map((v) => [v.name, 0]))
    for (const v of variants) {
      log(`  gateway · ${v.name} · warm-up`)
      await load(v, tokens, quick ? 1 : 2)
    }
    for (let round = 0; round < rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!)
      log(`  gateway · round ${round + 1}/${rounds} · ${order.length} × ${seconds} s`)
      for (const v of order) {
        const before = v.pid === undefined ? Number.NaN : cpuUs(v.pid)
        runs.get(v.name)!.push(await load(v, tokens, seconds))
        cpu.set(v.name, cpu.get(v.name)! + (v.pid === undefined ? Number.NaN : cpuUs(v.pid) - before))
      }
    }
    const figures: GatewayFigure[] = variants.map((v) => {
      const r = runs.get(v.name)!
      return {
        variant: v.name,
        reqPerSec: median(r.map((x) => x.requests.average)),
        rounds: r.map((x) => Math.round(x.requests.average)),
        latencyP99Ms: median(r.map((x) => x.latency.p99)),
        non2xx: r.reduce((a, x) => a + x.non2xx, 0),
        errors: r.reduce((a, x) => a + x.errors, 0),
        ratioToBase: 0,
        base: v.base,
        cpuUsPerRequest: cpu.get(v.name)! / r.reduce((a, x) => a + x.requests.total, 0),
      }
    })
    const rate = (name: string) => figures.find((x) => x.variant === name)!.reqPerSec
    for (const fig of figures) fig.ratioToBase = fig.reqPerSec / rate(fig.base)
    const notes: string[] = []
    const hit = figures.find((x) => x.variant === 'decision endpoint, cache hits')!
    const bareCpu = figures.find((x) => x.variant === hit.base)!.cpuUsPerRequest
    notes.push(
      `decision endpoint on cache hits: ${ratio(hit.reqPerSec, rate(hit.base))} of the bare handler's req/s (target ≥ ${TARGET}x): ${hit.ratioToBase >= TARGET ? 'met' : 'NOT MET'}; ` +
        `by CPU per request (bare / decision): ${ratio(bareCpu, hit.cpuUsPerRequest)}`,
    )
    for (const fig of figures)
      if (fig.non2xx + fig.errors > 0)
        notes.push(`!!! WARNING: ${fig.variant}: ${fig.non2xx} non-2xx, ${fig.errors} errors — this row did not measure what it says`)
    const tables = [
      table(
        `gateway (${CONNECTIONS} connections; median of ${rounds} interleaved rounds of ${seconds} s; ${POOL} distinct RS256 tokens)`,
        ['variant', 'req/s', 'ratio', 'to', 'rounds (req/s)', 'p99 ms', 'non-2xx', 'errors'],
        figures.map((x) => [
          x.variant,
          x.reqPerSec,
          ratio(x.reqPerSec, rate(x.base)),
          x.base,
          x.rounds.join(' '),
          x.latencyP99Ms,
          x.non2xx,
          x.errors,
        ]),
      ),
    ]
    return { suite: 'gateway', figures, tables, notes }
  } finally {
    for (const child of procs) child.kill('SIGTERM')
    await sleep(200)
    await rm(dir, { recursive: true, force: true })
    await f.close()
  }
}
