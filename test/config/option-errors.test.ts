// Every bad option, whatever its concern, is refused the same way: a TypeError at construction,
// `jwtguard: option "<path>" <problem>`, naming the option as the user wrote it, echoing no secret.
import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { GuardError } from '../../src/errors.js'
import { createGuard } from '../../src/guard.js'
import type { GuardOptions } from '../../src/options.js'
import { requireClaims, requireScopes } from '../../src/authz/checks.js'
import { memoryDpopReplayStore } from '../../src/dpop/replay.js'
import { memoryRevocationStore } from '../../src/revocation/memory.js'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const SHORT_SECRET = 'short-secret-never-echoed'
const base = { issuer: 'https://issuer.example', audience: 'https://api.example', publicKey: rsa.publicKey }

type Loose = Record<string, unknown>

function thrown(make: () => unknown): Error {
  try {
    make()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

const construct = (options: Loose) => () => createGuard(options as unknown as GuardOptions)
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

// One bad value per option group: [group, the options, the option path the message must name].
const CASES: [string, Loose, string][] = [
  ['the options object', null as unknown as Loose, ''],
  ['an unknown name', { ...base, audiance: 'x' }, 'audiance'],
  ['issuer', { ...base, issuer: [] }, 'issuer'],
  ['issuer entry', { ...base, issuer: [{ issuer: 'https://a.example', audience: 5 }] }, 'issuer[0].audience'],
  ['audience', { ...base, audience: '' }, 'audience'],
  ['keys: two sources', { ...base, secret: 'k'.repeat(32) }, 'secret'],
  ['keys: secret', { issuer: base.issuer, audience: base.audience, secret: SHORT_SECRET }, 'secret'],
  ['keys: publicKey', { ...base, publicKey: 'not a key' }, 'publicKey'],
  ['keys: jwks', { issuer: base.issuer, audience: base.audience, jwks: { keys: [] } }, 'jwks'],
  ['keys: getKey', { issuer: base.issuer, audience: base.audience, getKey: 'fn' }, 'getKey'],
  ['keys: jwksUri', { issuer: base.issuer, audience: base.audience, jwksUri: 'http://idp.example/jwks' }, 'jwksUri'],
  ['keys: algorithms', { ...base, algorithms: ['none'] }, 'algorithms'],
  ['keys: jwksCache', { ...base, jwksCache: { cacheMaxAge: -1 } }, 'jwksCache.cacheMaxAge'],
  ['claims: clockTolerance', { ...base, clockTolerance: 'soon' }, 'clockTolerance'],
  ['claims: maxTokenAge', { ...base, maxTokenAge: -5 }, 'maxTokenAge'],
  ['claims: typ', { ...base, typ: '' }, 'typ'],
  ['claims: requiredClaims', { ...base, requiredClaims: [''] }, 'requiredClaims'],
  ['claims: expectedClaims', { ...base, expectedClaims: { a: {} } }, 'expectedClaims'],
  ['claims: audienceClaim', { ...base, audienceClaim: '' }, 'audienceClaim'],
  ['claims: claimsSchema', { ...base, claimsSchema: {} }, 'claimsSchema'],
  ['grants: scopeClaim', { ...base, scopeClaim: [] }, 'scopeClaim'],
  ['grants: rolesClaim', { ...base, rolesClaim: 'realm.{client}.roles' }, 'rolesClaim'],
  ['grants: claimVariables', { ...base, claimVariables: { a: 1 } }, 'claimVariables'],
  ['intake: tokenFrom', { ...base, tokenFrom: [{ cookie: '' }] }, 'tokenFrom'],
  ['intake: maxTokenLength', { ...base, maxTokenLength: 3 }, 'maxTokenLength'],
  ['intake: authRequired', { ...base, authRequired: 'no' }, 'authRequired'],
  ['decryption', { ...base, decryption: { keys: [] } }, 'decryption.keys'],
  [
    'decryption algorithms',
    { ...base, decryption: { keys: 'x', keyManagementAlgorithms: ['RSA1_5'] } },
    'decryption.keyManagementAlgorithms',
  ],
  ['dpop', { ...base, dpop: { proofMaxAge: 0 } }, 'dpop.proofMaxAge'],
  ['dpop nonce', { ...base, dpop: { nonce: { secret: new Uint8Array(4) } } }, 'dpop.nonce.secret'],
  ['mtls', { ...base, mtls: { trustedProxies: [] } }, 'mtls.trustedProxies'],
  ['cache', { ...base, cache: { max: 0 } }, 'cache.max'],
  ['revocation', { ...base, revocation: {} }, 'revocation'],
  ['revocation: jtiClaim', { ...base, jtiClaim: '' }, 'jtiClaim'],
  ['revocation: isRevoked', { ...base, isRevoked: true }, 'isRevoked'],
  ['events', { ...base, onEvent: 'log' }, 'onEvent'],
  ['challenge: realm', { ...base, realm: 'a"b' }, 'realm'],
  ['resourceMetadata', { ...base, resourceMetadata: { resource: 'ftp://x' } }, 'resourceMetadata.resource'],
]

describe('option errors', () => {
  it.each(CASES)('%s: one shape, naming the option', (_group, options, path) => {
    const err = thrown(construct(options))
    expect(err).toBeInstanceOf(TypeError)
    expect(err).not.toBeInstanceOf(GuardError)
    const subject = path === '' ? 'options' : `option "${escape(path)}"`
    expect(err.message).toMatch(new RegExp(`^jwtguard: ${subject} \\S`))
    expect(err.message).not.toContain(SHORT_SECRET)
    expect(err.message).not.toMatch(/-----BEGIN|\n/)
  })

  it('factories of stores and checks use the same shape, naming the factory', () => {
    const messages = [
      thrown(() => memoryRevocationStore({ max: 0 })).message,
      thrown(() => memoryRevocationStore({ leeway: -1 })).message,
      thrown(() => memoryDpopReplayStore({ max: 1.5 })).message,
      thrown(() => requireScopes('read', { mode: 'some' as 'all' })).message,
      thrown(() => requireClaims({ a: 1 }, { description: 'a"b' })).message,
    ]
    expect(messages).toEqual([
      'jwtguard: memoryRevocationStore option "max" must be a positive integer (given: 0)',
      'jwtguard: memoryRevocationStore option "leeway" must be a non-negative number of seconds (given: -1)',
      'jwtguard: memoryDpopReplayStore option "max" must be a positive integer (given: 1.5)',
      `jwtguard: requireScopes() option "mode" must be 'all' or 'any' (given: a string)`,
      'jwtguard: requireClaims() option "description" must be a non-empty string of printable ASCII without " or \\ (RFC 6750 §3)',
    ])
  })

  it('shows a refused number, never a refused string, object or function', () => {
    expect(thrown(construct({ ...base, cache: { ttl: -3 } })).message).toBe(
      'jwtguard: option "cache.ttl" must be a positive number of seconds (given: -3)',
    )
    expect(thrown(construct({ ...base, dpop: { proofMaxAge: 0 } })).message).toBe(
      'jwtguard: option "dpop.proofMaxAge" must be a positive number of seconds (given: 0)',
    )
    expect(thrown(construct({ ...base, clockTolerance: SHORT_SECRET })).message).toMatch(/\(given: a string\)$/)
    const getKey = thrown(construct({ issuer: base.issuer, audience: base.audience, getKey: { source: SHORT_SECRET } }))
    expect(getKey.message).toBe('jwtguard: option "getKey" must be a function (given: an object)')
  })
})
