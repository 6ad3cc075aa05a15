// Nothing a user writes is silently ignored: an option name the guard does not know fails at
// construction, nested ones included, naming the closest known name.
import { describe, expect, it } from 'vitest'
import { createGuard, presets, type GuardOptions } from '../../src/index.js'
import { closestName } from '../../src/known-options.js'

const base = { issuer: 'https://idp.example.com/', audience: 'api', secret: 'x'.repeat(32) }

function constructionError(options: Record<string, unknown>): string {
  try {
    createGuard(options as unknown as GuardOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError)
    return (err as Error).message
  }
  throw new Error('createGuard accepted the options')
}

describe('unknown option names', () => {
  it.each([
    [{ audiance: 'api' }, 'option "audiance" is unknown: did you mean "audience"?'],
    [{ issuers: 'x' }, 'option "issuers" is unknown: did you mean "issuer"?'],
    [{ jwksURI: 'https://idp.example.com/jwks' }, 'option "jwksURI" is unknown: did you mean "jwksUri"?'],
    [{ clockTolerence: 5 }, 'option "clockTolerence" is unknown: did you mean "clockTolerance"?'],
    [{ algorithm: ['HS256'] }, 'option "algorithm" is unknown: did you mean "algorithms"?'],
    [{ credentialsRequired: false }, 'option "credentialsRequired" is unknown'],
    [{ scopes: 'a' }, 'option "scopes" is unknown: did you mean "scopeClaim"?'],
  ])('%j fails naming it and the closest known name', (extra, message) => {
    expect(constructionError({ ...base, ...extra })).toBe(`jwtguard: ${message}`)
  })

  it.each([
    [{ jwksCache: { cooldown: 1000 } }, 'option "jwksCache" has an unknown member "cooldown": did you mean "jwksCache.cooldownDuration"?'],
    [{ cache: { maxSize: 5 } }, 'option "cache" has an unknown member "maxSize": did you mean "cache.max"?'],
    [{ dpop: { require: true } }, 'option "dpop" has an unknown member "require": did you mean "dpop.required"?'],
    [{ dpop: { nonce: { lifeTime: 5 } } }, 'option "dpop.nonce" has an unknown member "lifeTime": did you mean "dpop.nonce.lifetime"?'],
    [{ decryption: { key: 'k', required: true } }, 'option "decryption" has an unknown member "key": did you mean "decryption.keys"?'],
    [
      { resourceMetadata: { resource: 'https://api.example.com', authorization_servers: [] } },
      'option "resourceMetadata" has an unknown member "authorization_servers": did you mean "resourceMetadata.authorizationServers"?',
    ],
    [
      { issuer: [{ issuer: 'https://a.example.com/', audiences: 'x' }] },
      'option "issuer[0]" has an unknown member "audiences": did you mean "issuer[0].audience"?',
    ],
  ])('nested %j fails naming the member and the closest known name', (extra, message) => {
    expect(constructionError({ ...base, ...extra })).toBe(`jwtguard: ${message}`)
  })

  it('accepts every preset spread into the options, and boolean forms of nested options', () => {
    for (const preset of [presets.auth0(), presets.okta(), presets.entra(), presets.keycloak({ clientId: 'c' }), presets.cognito()]) {
      expect(() => createGuard({ ...base, ...preset })).not.toThrow()
    }
    expect(() => createGuard({ ...base, cache: false, dpop: true, algorithms: ['HS256'] })).not.toThrow()
  })

  it('ignores nothing an attacker-shaped object could smuggle: an own "constructor" or "__proto__" key is unknown', () => {
    expect(constructionError({ ...base, constructor: 5 })).toMatch(/option "constructor" is unknown/)
    expect(
      constructionError(
        JSON.parse(`{"issuer":"https://idp.example.com/","audience":"api","secret":"${'x'.repeat(32)}","__proto__":{"a":1}}`),
      ),
    ).toMatch(/option "__proto__" is unknown/)
  })

  it('suggests nothing when no known name is close', () => {
    expect(closestName('zzzzzzzz', ['audience', 'issuer'])).toBeUndefined()
  })
})
