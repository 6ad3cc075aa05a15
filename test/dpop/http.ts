import { STATUS_CODES } from 'node:http'
import { connect } from 'node:net'
import { expect } from 'vitest'
import type { GuardErrorCode } from '../../src/index.js'
import type { AppSpec, Family, Framework, Running } from '../conformance/apps.js'
import { freePort } from '../helpers/shared.js'

export interface Reply {
  status: number
  /** Lower-case names. */
  headers: Record<string, string | undefined>
  body: string
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { headers })
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }
}

/**
 * A GET over a bare socket, for what fetch cannot send (a header line twice).
 * `Connection: close`: the response ends with the socket. Status and headers only.
 */
export async function getRaw(url: string, headerLines: string[]): Promise<Omit<Reply, 'body'>> {
  const { hostname, port, pathname } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.setTimeout(10_000, () => socket.destroy(new Error('no response within 10 s')))
  socket.end([`GET ${pathname} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', ...headerLines, '', ''].join('\r\n'))
  const chunks: Buffer[] = []
  for await (const chunk of socket) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks)
  const [statusLine, ...lines] = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine!)![1]), headers }
}

/** Each framework's default error handler renders a GuardError in its own body shape; code and message are the same. */
export function expectErrorBody(family: Family, reply: Reply, code: GuardErrorCode, message: string): void {
  if (family === 'express') expect(reply.body).toContain(`<pre>GuardError [${code}]: ${message}</pre>`)
  else if (family === 'koa') expect(reply.body).toBe(message)
  else expect(JSON.parse(reply.body)).toEqual({ statusCode: reply.status, code, error: STATUS_CODES[reply.status], message })
}

/**
 * Starts an app whose options must name its own URL (an RFC 9728 `resource`):
 * the port is chosen first. Another process may take it in between: try a few.
 */
export async function startAt(framework: Framework, spec: (origin: string) => AppSpec): Promise<Running> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return await framework.start(spec(`http://127.0.0.1:${port}`), port)
    } catch (err) {
      if (attempt === 3 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    }
  }
}
