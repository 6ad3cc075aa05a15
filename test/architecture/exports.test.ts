// The root export is for users; adapter plumbing lives in `jwtguard/adapter`. A name added to
// either is a public API decision: this list makes it a visible one.
import { describe, expect, it } from 'vitest'
import * as root from '../../src/index.js'
import * as adapter from '../../src/adapter.js'

describe('public exports', () => {
  it('the root (`jwtguard`) exports the user-facing names only', () => {
    expect(Object.keys(root).sort()).toEqual([
      'ERROR_CODES',
      'ERROR_TABLE',
      'GuardError',
      'createGuard',
      'grantsOf',
      'humanDuration',
      'isGuardError',
      'jwkThumbprint',
      'memoryDpopReplayStore',
      'memoryRevocationStore',
      'optionsFromEnv',
      'presets',
      'requireClaims',
      'requireRoles',
      'requireScopes',
    ])
  })

  it('`jwtguard/adapter` exports what an adapter for another framework needs', () => {
    expect(Object.keys(adapter).sort()).toEqual([
      'AUTHENTICATE_NOW',
      'GUARD_KEY',
      'RequestView',
      'authenticateNow',
      'authenticateThen',
      'errorResponse',
      'isPending',
      'resolveGuard',
      'runCheck',
    ])
  })
})
