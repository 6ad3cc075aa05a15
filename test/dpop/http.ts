import { STATUS_CODES } from 'node:http'
import { expect } from 'vitest'
import type { GuardErrorCode } from '../../src/index.js'
import type { AppSpec, Family, Framework, Running } from '../conformance/apps.js'
import { freePort, type Reply } from '../helpers/shared.js'

export { getRaw, type Reply } from '../helpers/shared.js'

export async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { headers })
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }
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
