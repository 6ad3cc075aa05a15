import type { AuthInfo } from '../../src/index.js'
import { createServer } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { expect } from 'vitest'
import { GuardError } from '../../src/index.js'

/** Awaits a promise that must reject with a GuardError, and returns that error for its code and headers. */
export async function rejection(promise: Promise<unknown>): Promise<GuardError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(GuardError)
    return err as GuardError
  }
  throw new Error('expected a rejection')
}

/** A loopback port free right now (for servers whose options must name their own URL). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** An HTTP answer as the tests read it. */
export interface Reply {
  status: number
  /** Lower-case names. */
  headers: Record<string, string | undefined>
  body: string
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  while (at < body.length) {
    const eol = body.indexOf('\r\n', at)
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16)
    if (!(size > 0)) break
    parts.push(body.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(parts)
}

/** What `getRaw` sends instead of the URL's own request-target and `Host` line. */
export interface RawOptions {
  /** The request-target as sent: `*`, an absolute-form URL … Default: the URL's path. */
  target?: string
  /** The `Host` header lines as sent (none, two, malformed …). Default: one, the URL's host. */
  hostLines?: string[]
}

/**
 * A GET over a bare socket, for what fetch and node:http cannot send (a header
 * line twice, a malformed `Host`, an absolute-form target). HTTP/1.1 with
 * `Connection: close`: the response ends with the socket.
 */
export async function getRaw(url: string, headerLines: string[], options: RawOptions = {}): Promise<Reply> {
  const { hostname, port, pathname } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.setTimeout(10_000, () => socket.destroy(new Error('no response within 10 s')))
  const head = [`GET ${options.target ?? pathname} HTTP/1.1`, ...(options.hostLines ?? [`Host: ${hostname}:${port}`])]
  // `write`, not `end`: a half-closed socket makes Node drop a response that is still being computed.
  socket.write([...head, 'Connection: close', ...headerLines, '', ''].join('\r\n'))
  const chunks: Buffer[] = []
  for await (const chunk of socket) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks)
  const split = raw.indexOf('\r\n\r\n')
  const [statusLine, ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  const body = raw.subarray(split + 4)
  return {
    status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine!)![1]),
    headers,
    body: (headers['transfer-encoding'] === 'chunked' ? dechunk(body) : body).toString('utf8'),
  }
}

/**
 * A hand-made `AuthInfo` with these claims, enough to ask a revocation store directly, without a guard: `payload`
 * and `claims` are the same object, as the guard makes them without a schema.
 */
export const authOf = (claims: Record<string, unknown>): AuthInfo<unknown> => ({
  token: 'unused',
  header: { alg: 'RS256' },
  payload: claims,
  claims,
  scopes: [],
  roles: [],
  encrypted: false,
})
