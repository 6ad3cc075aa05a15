import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
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
