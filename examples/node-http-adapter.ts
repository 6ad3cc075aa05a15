// A whole jwtguard adapter for plain `node:http`, written against `jwtguard/adapter` (in your code:
// `from 'jwtguard/adapter'`). It does what the shipped Express, Koa and Fastify adapters do: read the
// request, call the core, attach the result, pass errors on. No verification logic lives here.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { requireScopes as scopesCheck, type GuardError } from '../src/index.js'
import { authenticateThen, errorResponse, GUARD_KEY, RequestView, resolveGuard, runCheck, type GuardInput } from '../src/adapter.js'
import type { AuthCheck, AuthInfo, Guard } from '../src/adapter.js'

/** A request as this adapter leaves it: `auth` set when the token was valid. */
export interface GuardedRequest extends IncomingMessage {
  auth?: AuthInfo
  [GUARD_KEY]?: Guard<unknown>
}

type Handler = (req: GuardedRequest, res: ServerResponse) => void

/** The connection (local address, port, TLS or not), read only when DPoP asks for it. */
const connectionOf = (req: IncomingMessage): Socket => req.socket

/** Answers a guard error as the HTTP layer shaped it: status, `WWW-Authenticate`, a small JSON body. */
function fail(res: ServerResponse, err: unknown): void {
  const { status, headers, body } = errorResponse(err as GuardError)
  res.writeHead(status, { ...headers, 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** Wraps a handler: it runs only for requests with a valid token (or none, with `authRequired: false`). */
export function withGuard(input: GuardInput, handler: Handler): Handler {
  const guard = resolveGuard(input) as Guard<unknown>
  return (req, res) => {
    req[GUARD_KEY] = guard
    const view = new RequestView(req, connectionOf, req.headers, req.rawHeaders, req.method ?? 'GET', req.url ?? '/')
    authenticateThen(guard, view, (err, auth) => {
      if (err) return fail(res, err)
      if (auth) req.auth = auth as AuthInfo
      handler(req, res)
    })
  }
}

/** A route check (`requireScopes(...)` here; roles and claims are the same line) in front of a handler. */
export function checked(check: AuthCheck, handler: Handler): Handler {
  return (req, res) => {
    try {
      runCheck(check, req.auth, req[GUARD_KEY])
    } catch (err) {
      return fail(res, err)
    }
    handler(req, res)
  }
}

export const requireScopes = (scopes: string | readonly string[], handler: Handler): Handler => checked(scopesCheck(scopes), handler)
