import { parseConfig } from '../../src/serve/config.js'
import { startServe, type ServeHandle } from '../../src/serve/server.js'

/** An in-process `jwtguard serve` on a free loopback port, with its log lines kept. */
export interface Gateway {
  readonly handle: ServeHandle
  readonly url: string
  /** Parsed JSON log lines, in order. */
  readonly logs: Record<string, unknown>[]
  /** The config `reload()` reads next. */
  config: Record<string, unknown>
}

export async function startGateway(config: Record<string, unknown>): Promise<Gateway> {
  const logs: Record<string, unknown>[] = []
  const gateway = { config, logs } as Gateway & { handle: ServeHandle; url: string }
  gateway.handle = await startServe(
    (onEvent) => parseConfig({ listen: { host: '127.0.0.1', port: 0 }, ...gateway.config }, onEvent),
    (entry) => logs.push(JSON.parse(JSON.stringify(entry))),
  )
  gateway.url = `http://127.0.0.1:${gateway.handle.port}`
  return gateway
}

export interface Ask {
  method?: string
  uri?: string
  token?: string
  headers?: Record<string, string>
}

/** What nginx's `auth_request` sends: the client's headers plus X-Original-Method and X-Original-URI. */
export async function ask(gateway: Gateway, { method = 'GET', uri = '/', token, headers = {} }: Ask = {}) {
  const res = await fetch(`${gateway.url}/verify`, {
    headers: {
      'x-original-method': method,
      'x-original-uri': uri,
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    signal: AbortSignal.timeout(15_000),
  })
  return { status: res.status, headers: res.headers, body: await res.text() }
}
