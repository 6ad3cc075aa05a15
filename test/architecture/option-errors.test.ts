// Every option error is made by `optionError` (src/option-error.ts), so all of them share one shape
// and name the option. Any other `new TypeError(` / `new RangeError(` in src/ must be one of the
// errors listed here, each with the reason it is not an option error.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const HELPER = 'src/option-error.ts'

/**
 * Out of scope as a whole: the CLI's errors are about command-line flags and their usage (the guard
 * options it builds are refused by `createGuard` like any other), and the test issuer's methods are
 * called by tests while they run.
 */
const OUT_OF_SCOPE = ['src/cli/', 'src/cli.ts', 'src/testing/']

/** The errors in scope that are not option errors: [file, the start of the message, why]. */
const NOT_OPTION_ERRORS: [string, string, string][] = [
  ['src/serve/command.ts', '--listen must be', 'a command-line flag of `jwtguard serve`'],
  ['src/env.ts', 'jwtguard: environment variable', 'names the environment variable the user set, not an option'],
  ['src/env.ts', 'jwtguard: no options given and environment variable JWT_ISSUER', 'a missing environment variable'],
  ['src/env.ts', 'jwtguard: no options given and environment variable JWT_AUDIENCE', 'a missing environment variable'],
  ['src/authz/checks.ts', 'jwtguard: ${fn}() needs one or more', 'the scopes or roles argument of requireScopes/requireRoles'],
  ['src/authz/checks.ts', 'jwtguard: ${fn}() scope ', 'the scopes argument of requireScopes: a name that is not a scope-token'],
  ['src/authz/checks.ts', 'jwtguard: requireClaims() needs a predicate', 'the check argument of requireClaims'],
  ['src/revocation/store.ts', 'jwtguard: ${what} needs a non-empty string', 'an argument of revoke() / revokeSubject(), at run time'],
  ['src/revocation/store.ts', 'jwtguard: ${what} needs epoch seconds', 'an argument of revoke() / revokeSubject(), at run time'],
  ['src/dpop/replay.ts', 'jwtguard: memoryDpopReplayStore remember(', 'an argument of remember(), at run time'],
  ['src/callbacks.ts', 'jwtguard: ${callback} returned a promise', 'a user callback misbehaving at run time (a 5xx cause)'],
  ['src/claims/schema.ts', 'claimsSchema returned no result', 'a schema misbehaving at run time (a 5xx cause)'],
  ['src/claims/schema.ts', 'claimsSchema returned neither', 'a schema misbehaving at run time (a 5xx cause)'],
  ['src/keys/sources.ts', 'symmetric key for an asymmetric', "a key getKey returned at run time (the cause of a 401's error)"],
  ['src/keys/sources.ts', 'HMAC key shorter than the hash', "a key getKey returned at run time (the cause of a 401's error)"],
]

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

/** Each `new TypeError(` / `new RangeError(` of src/ in scope, with the text that follows it on its line. */
function constructions(): { file: string; text: string }[] {
  const found: { file: string; text: string }[] = []
  for (const path of sourceFiles(join(root, 'src'))) {
    const file = relative(root, path)
    if (file === HELPER || OUT_OF_SCOPE.some((prefix) => file.startsWith(prefix))) continue
    for (const m of readFileSync(path, 'utf8').matchAll(/new (?:Type|Range)Error\(\s*['"`]?([^\n]*)/g)) {
      found.push({ file, text: m[1]! })
    }
  }
  return found
}

describe('option errors come from one helper', () => {
  const found = constructions()

  it('reads the source tree (so the check below is not vacuous)', () => {
    expect(readFileSync(join(root, HELPER), 'utf8')).toMatch(/new TypeError\(/)
    expect(found.length).toBeGreaterThanOrEqual(NOT_OPTION_ERRORS.length)
  })

  it('constructs no TypeError or RangeError in src/ outside the helper except the listed non-option errors', () => {
    const unlisted = found.filter(({ file, text }) => !NOT_OPTION_ERRORS.some(([f, start]) => f === file && text.startsWith(start)))
    expect(unlisted).toEqual([])
  })

  it('lists no error that is gone (the list stays exact)', () => {
    const stale = NOT_OPTION_ERRORS.filter(([f, start]) => !found.some(({ file, text }) => file === f && text.startsWith(start)))
    expect(stale).toEqual([])
  })

  it('lets no other error class carry an option message', () => {
    const offenders = sourceFiles(join(root, 'src'))
      .map((path) => relative(root, path))
      .filter((file) => file !== HELPER && !OUT_OF_SCOPE.some((prefix) => file.startsWith(prefix)))
      .filter((file) => /new \w*Error\(\s*['"`][^'"`\n]*option "/.test(readFileSync(join(root, file), 'utf8')))
    expect(offenders).toEqual([])
  })
})
