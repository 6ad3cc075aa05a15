/**
 * `jwtguard/adapter`: what an adapter for another framework needs. An adapter
 * does four things: read the request (`RequestView`), call the core
 * (`authenticateThen`), attach the result, pass errors on; route checks run
 * through `runCheck` with the guard that served the request (`GUARD_KEY`).
 * The shipped Express, Koa and Fastify adapters are built from exactly this;
 * `examples/node-http-adapter.ts` is a whole adapter for `node:http`.
 */
export { AUTHENTICATE_NOW } from './guard.js'
export { resolveGuard, runCheck, authenticateNow, authenticateThen, isPending, RequestView, GUARD_KEY } from './adapter-kit.js'
export { errorResponse, type ErrorBody } from './http/body.js'
export type { BodyReader, GuardInput } from './adapter-kit.js'
export type { Guard } from './guard.js'
export type { GuardRequest } from './intake/request.js'
export type { AuthInfo } from './types.js'
export type { AuthCheck } from './authz/checks.js'
