import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type GuardOptions, type GuardRequest } from '../../src/index.js'
import { listenerOrigins } from '../../src/dpop/listener.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { clientKey, signProof, type ClientKey } from '../dpop/fixtures.js'
import { rejection } from '../helpers/shared.js'

// Issue 14, item 6, in the core: which origins a proof's htu may name, and what `dpop.origin` accepts.

let issuer: TestIssuer
let key: ClientKey

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
  key = await clientKey('ES256')
})

afterAll(() => issuer?.close())

const guardWith = (dpop: GuardOptions['dpop']) => createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, dpop })

async function request(htu: string, extra: Partial<GuardRequest> = {}): Promise<GuardRequest> {
  const token = await issuer.sign({ cnf: { jkt: key.jkt } }, { alg: 'ES256' })
  const proof = await signProof(key, { htu, token })
  return { headers: { host: 'api.example.com', authorization: `DPoP ${token}`, dpop: proof }, method: 'GET', url: '/orders', ...extra }
}

describe('without dpop.origin, htu names the listening address, never the Host header', () => {
  it('a plain request with no connection matches no origin, and the refusal names dpop.origin', async () => {
    const err = await rejection(guardWith({ algorithms: ['ES256'] }).authenticate(await request('http://api.example.com/orders')))
    expect({ code: err.code, status: err.status, message: err.message }).toEqual({
      code: 'ERR_DPOP_PROOF_INVALID',
      status: 401,
      message: 'DPoP proof htu is not the listening address; set dpop.origin',
    })
  })

  it('a TLS connection on a public address: https and that address only', async () => {
    const connection = { localAddress: '192.0.2.7', localPort: 8443, encrypted: true }
    const guard = guardWith({ algorithms: ['ES256'] })
    expect((await guard.authenticate(await request('https://192.0.2.7:8443/orders', { connection })))?.cnf).toEqual({ jkt: key.jkt })
    for (const htu of ['http://192.0.2.7:8443/orders', 'https://localhost:8443/orders', 'https://api.example.com/orders'])
      expect((await rejection(guard.authenticate(await request(htu, { connection })))).context.reason).toBe('htu')
  })

  it.each<[string, { localAddress?: string; localPort?: number; encrypted?: boolean } | undefined, string[]]>([
    [
      'IPv4 loopback',
      { localAddress: '127.0.0.1', localPort: 3000 },
      ['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000'],
    ],
    ['IPv6 loopback', { localAddress: '::1', localPort: 3000 }, ['http://[::1]:3000', 'http://localhost:3000', 'http://127.0.0.1:3000']],
    ['IPv4 seen by a dual-stack listener', { localAddress: '::ffff:10.0.0.5', localPort: 80 }, ['http://10.0.0.5']],
    ['TLS on the default port', { localAddress: '10.0.0.5', localPort: 443, encrypted: true }, ['https://10.0.0.5']],
    ['an IPv6 address', { localAddress: '2001:db8::1', localPort: 8080 }, ['http://[2001:db8::1]:8080']],
    ['a zone id, which no URL can name', { localAddress: 'fe80::1%eth0', localPort: 8080 }, []],
    ['a closed socket', { localPort: 8080 }, []],
    ['no connection', undefined, []],
  ])('listener origins: %s', (_n, connection, origins) => {
    expect([...listenerOrigins(connection)].sort()).toEqual([...origins].sort())
  })
})

describe('dpop.origin', () => {
  it('takes a list: a proof for any of its origins passes, whatever Host says', async () => {
    const guard = guardWith({ algorithms: ['ES256'], origin: ['https://api.example.com', 'https://API.example.org:443/'] })
    for (const htu of ['https://api.example.com/orders', 'https://api.example.org/orders']) {
      const sent = await request(htu)
      sent.headers.host = 'evil.example'
      expect((await guard.authenticate(sent))?.cnf).toEqual({ jkt: key.jkt })
    }
  })

  it.each<[string, unknown]>([
    ['a host without scheme', 'api.example.com'],
    ['a host and port without scheme', 'localhost:3000'],
    ['a path', 'https://api.example.com/v1'],
    ['a query', 'https://api.example.com/?x=1'],
    ['an empty query', 'https://api.example.com?'],
    ['a fragment', 'https://api.example.com#top'],
    ['credentials', 'https://user:pw@api.example.com'],
    ['another scheme', 'ftp://api.example.com'],
    ['an empty list', []],
    ['a list with a bad entry', ['https://api.example.com', 'nope']],
    ['a number', 443],
  ])('refuses %s at construction, naming dpop.origin', (_n, origin) => {
    expect(() => guardWith({ algorithms: ['ES256'], origin: origin as string })).toThrow(/"dpop\.origin"/)
  })
})
