import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../helpers/shared.js'

/** Where the binaries are looked for: PATH, then Debian's sbin (not on every user's PATH). */
function binary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin']
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {
      // not here
    }
  }
  return undefined
}

/**
 * The gateway's binary, or `undefined` to skip locally with a note. In CI a
 * missing gateway is an error (`.ci/run` installs both), never a silent skip.
 */
export function gatewayBinary(name: 'nginx' | 'caddy'): string | undefined {
  const path = binary(name)
  if (path) return path
  if (process.env.CI) throw new Error(`${name} is not installed: CI must install it (see .ci/run)`)
  console.warn(`Skipping the ${name} gateway tests: ${name} is not installed (Debian/Ubuntu: apt-get install ${name}).`)
  return undefined
}

/** The first fenced block of `lang` in docs/gateway.md: the configs users copy are the configs the tests run. */
export function documentedBlock(lang: string): string {
  const doc = readFileSync(new URL('../../docs/gateway.md', import.meta.url), 'utf8')
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(doc)
  if (!match) throw new Error(`docs/gateway.md has no \`\`\`${lang} block`)
  return match[1]!
}

/** The documented ports: the gateway, jwtguard serve, the upstream. */
export function withPorts(block: string, ports: { gateway: number; jwtguard: number; upstream: number }): string {
  return block
    .replaceAll('127.0.0.1:8000', `127.0.0.1:${ports.gateway}`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.jwtguard}`)
    .replaceAll('127.0.0.1:3000', `127.0.0.1:${ports.upstream}`)
}

/** What the upstream received: its headers (lower-case) and URL. */
export interface Echo {
  headers: IncomingHttpHeaders
  url: string
}

/** A tiny upstream that answers every request with the headers it got, as JSON. */
export async function startUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ headers: req.headers, url: req.url }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/**
 * A GET whose request target is sent as written (fetch would resolve `..`).
 * The socket is not half-closed: nginx takes a client's FIN as an abort.
 */
export async function rawGet(port: number, target: string): Promise<number> {
  const socket = connect(port, '127.0.0.1')
  socket.setTimeout(15_000, () => socket.destroy(new Error('no response within 15 s')))
  socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
  let text = ''
  for await (const chunk of socket) text += (chunk as Buffer).toString('latin1')
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(text)
  if (!status) throw new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`)
  return Number(status[1])
}

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.setTimeout(500, () => (socket.destroy(), resolve(false)))
    socket.once('error', () => resolve(false))
    socket.once('connect', () => (socket.destroy(), resolve(true)))
  })

export interface GatewayProcess {
  readonly port: number
  /** What the process printed, for failure messages. */
  output(): string
  stop(): Promise<void>
}

/** Spawns a gateway and waits (bounded) until its port accepts connections. */
async function run(command: string, args: string[], port: number, dir: string, env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const log = () => {
    try {
      return `${output}\n${readFileSync(join(dir, 'error.log'), 'utf8')}`
    } catch {
      return output
    }
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))])
    await exited
    await rm(dir, { recursive: true, force: true })
  }
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break
    if (await canConnect(port)) return { port, output: log, stop }
    await sleep(50)
  }
  const text = log()
  await stop()
  throw new Error(`${command} did not start on port ${port}:\n${text.slice(-3000)}`)
}

/** nginx in the foreground, everything it writes in a temp dir, with the documented server block. */
export async function startNginx(binaryPath: string, ports: { jwtguard: number; upstream: number }): Promise<GatewayProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'jwtguard-nginx-'))
  const port = await freePort()
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub))
  const conf = [
    // As root (CI), workers would switch to nobody, who cannot enter the private temp dir.
    process.getuid?.() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log info;`,
    'events { worker_connections 256; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${dir}/client_body;`,
    `  proxy_temp_path ${dir}/proxy;`,
    `  fastcgi_temp_path ${dir}/fastcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi;`,
    `  scgi_temp_path ${dir}/scgi;`,
    withPorts(documentedBlock('nginx'), { gateway: port, ...ports }),
    '}',
  ].join('\n')
  await writeFile(join(dir, 'nginx.conf'), conf)
  return run(
    binaryPath,
    ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    port,
    dir,
    process.env,
  )
}

/** Caddy with no admin endpoint, no automatic HTTPS, its storage in a temp dir, and the documented site block. */
export async function startCaddy(binaryPath: string, ports: { jwtguard: number; upstream: number }): Promise<GatewayProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'jwtguard-caddy-'))
  const port = await freePort()
  const caddyfile = [
    '{',
    '\tadmin off',
    '\tauto_https off',
    `\tstorage file_system ${dir}/data`,
    '}',
    '',
    withPorts(documentedBlock('caddyfile'), { gateway: port, ...ports }),
    '',
  ].join('\n')
  await writeFile(join(dir, 'Caddyfile'), caddyfile)
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') }
  return run(binaryPath, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], port, dir, env)
}
