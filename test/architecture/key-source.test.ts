// What a key source is, and which one a guard uses, is decided under src/keys/ only (chooseKeySource):
// the rest of the core hands the options to `resolveKeys` and holds the resolver it gets back.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

// A read of a key option on an options object (`options.jwksUri`, `o?.secret` …); an assignment
// (`options.secret = env.JWT_SECRET`, how env.ts builds options) is not a read.
const KEY_OPTION_READ = /\b\w*[oO]ptions\??\.(jwksUri|jwks|publicKey|secret|getKey|algorithms|jwksCache)\b(?!\s*=[^=])/
// The key source's own building blocks, which only src/keys/setup.ts composes.
const KEY_INTERNALS = /\b(chooseKeySource|createKeyResolver|fillAlgorithms|jwksCacheSettings)\b/
// The test issuer (src/testing/) has options of its own named `secret` and `algorithms`.
const outsideKeys = sourceFiles(join(root, 'src'))
  .map((path) => relative(root, path))
  .filter((file) => !file.startsWith('src/keys/') && !file.startsWith('src/testing/'))

describe('the key source lives under src/keys/', () => {
  it('reads the source tree (so the checks below are not vacuous)', () => {
    expect(outsideKeys).toContain('src/verify/settings.ts')
    expect(outsideKeys).toContain('src/config.ts')
  })

  it('no file outside src/keys/ reads a key option', () => {
    const readers = outsideKeys.filter((file) => KEY_OPTION_READ.test(readFileSync(join(root, file), 'utf8')))
    expect(readers).toEqual([])
  })

  it('no file outside src/keys/ chooses or builds the key source itself', () => {
    const builders = outsideKeys.filter((file) => KEY_INTERNALS.test(readFileSync(join(root, file), 'utf8')))
    expect(builders).toEqual([])
  })
})
