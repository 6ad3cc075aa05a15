import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type Route, type Running } from '../conformance/apps.js'
import { editSegment, encryptionKey, flipLastBit, type EncryptionKey } from './fixtures.js'

let issuer: TestIssuer
let key: EncryptionKey

beforeAll(async () => {
  issuer = await createTestIssuer()
  key = encryptionKey('rsa')
})
afterAll(async () => {
  await issuer?.close()
})

const route: Route = {
  path: '/protected',
  reply: (auth) => ({ sub: auth?.payload.sub, encrypted: auth?.encrypted, header: auth?.header }),
}

// As oidc-provider encrypts access tokens for a resource server: RSA-OAEP-256 + A256GCM, no kid.
const nestedToken = () => issuer.signEncrypted(undefined, { key: key.publicJwk, alg: 'RSA-OAEP-256', enc: 'A256GCM' })

async function get(app: Running, token: string) {
  const res = await fetch(`${app.url}/protected`, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() }
}

const challenge = (description: string) => `Bearer realm="api", error="invalid_token", error_description="${description}"`

describe.each(FRAMEWORKS)('nested JWT over HTTP on $name', (framework) => {
  let app: Running
  beforeAll(async () => {
    app = await framework.start({
      guard: {
        issuer: issuer.issuer,
        audience: issuer.audience,
        jwksUri: issuer.jwksUri,
        decryption: { keys: key.privateJwk, required: true },
      },
      routes: [route],
    })
  })
  afterAll(async () => {
    await app?.close()
  })

  it('verifies end to end: the handler sees the inner claims and the inner JWS header', async () => {
    const reply = await get(app, await nestedToken())
    expect(reply.status).toBe(200)
    const kid = issuer.jwks().keys.find((k) => k.alg === 'RS256')!.kid
    expect(JSON.parse(reply.body)).toEqual({ sub: 'user-123', encrypted: true, header: { alg: 'RS256', kid } })
  })

  it('a tampered token gets 401 with the generic decryption failure', async () => {
    const reply = await get(app, editSegment(await nestedToken(), 3, flipLastBit))
    expect(reply.status).toBe(401)
    expect(reply.challenge).toBe(challenge('Token decryption failed'))
    expect(reply.body).toContain('Token decryption failed')
  })

  it('a plain JWS gets 401 when encryption is required', async () => {
    const reply = await get(app, await issuer.sign())
    expect(reply.status).toBe(401)
    expect(reply.challenge).toBe(challenge('Encrypted token required'))
    expect(reply.body).toContain('Encrypted token required')
  })
})
