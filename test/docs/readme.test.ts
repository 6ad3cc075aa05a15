import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ERROR_TABLE } from '../../src/error-table.js'

// Keeps the docs honest: every option and every error code of the source has its row, in the docs file that holds
// its table; README.md stays an index small enough to read.
const read = (file: string): string => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')
const readme = read('README.md')
const optionsDoc = read('docs/options.md')
const errorsDoc = read('docs/errors.md')

const OPTION_FILES = ['src/options.ts', 'src/keys/options.ts', 'src/jwe/options.ts']
// Read with the type checker, not the text: `GuardOptions` is composed of parts declared beside their concerns.
const program = ts.createProgram(
  OPTION_FILES.map((f) => fileURLToPath(new URL(`../../${f}`, import.meta.url))),
  { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true },
)
const checker = program.getTypeChecker()

/** Property names of an interface declared in a source file, those of the interfaces it extends included. */
function interfaceProperties(file: string, name: string): string[] {
  const source = program.getSourceFile(fileURLToPath(new URL(`../../${file}`, import.meta.url)))!
  const declaration = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name)
  if (!declaration) throw new Error(`${file} declares no interface ${name}`)
  return checker.getPropertiesOfType(checker.getTypeAtLocation(declaration.name)).map((p) => p.name)
}

const guardOptions = interfaceProperties('src/options.ts', 'GuardOptions')
const jwksCacheOptions = interfaceProperties('src/keys/options.ts', 'JwksCacheOptions')
const decryptionOptions = interfaceProperties('src/jwe/options.ts', 'DecryptionOptions')

/** `true` when a Markdown table row starts with the name in backticks (and, if given, has that second cell). */
function hasRow(doc: string, name: string, secondCell?: string): boolean {
  const second = secondCell === undefined ? '' : ` *${secondCell} *\\|`
  return new RegExp(`^\\| *\`${name}\` *\\|${second}`, 'm').test(doc)
}

describe('README.md', () => {
  it('is an index of at most 12 KB', () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(12 * 1024)
  })

  it('gives the two commands that work on a fresh clone', () => {
    expect(readme).toContain('npm install && npm start')
    expect(readme).toContain('npm install && npm test')
  })
})

describe('docs/options.md and docs/errors.md', () => {
  it('reads the option interfaces (so the checks below are not vacuous)', () => {
    expect(guardOptions).toEqual(
      expect.arrayContaining(['issuer', 'audience', 'jwksUri', 'algorithms', 'authRequired', 'jwksCache', 'mtls', 'onEvent']),
    )
    expect(guardOptions.length).toBeGreaterThanOrEqual(32)
    expect(jwksCacheOptions).toEqual(expect.arrayContaining(['cacheMaxAge', 'cooldownDuration', 'timeoutDuration', 'staleIfError']))
    expect(decryptionOptions).toEqual(expect.arrayContaining(['keys', 'required']))
  })

  it.each(guardOptions)('has a row for the option `%s`', (option) => {
    expect(hasRow(optionsDoc, option), `docs/options.md has no table row for \`${option}\``).toBe(true)
  })

  it.each(jwksCacheOptions)('has a row for the jwksCache member `%s`', (member) => {
    expect(hasRow(optionsDoc, member), `docs/options.md has no table row for \`${member}\``).toBe(true)
  })

  it.each(decryptionOptions)('has a row for the decryption member `%s`', (member) => {
    expect(hasRow(optionsDoc, member), `docs/options.md has no table row for \`${member}\``).toBe(true)
  })

  // The errors table is checked against ERROR_TABLE, code by code: its status and its challenge's `error=` (— for none).
  it.each(Object.entries(ERROR_TABLE))('has a row for `%s` as in ERROR_TABLE', (code, info) => {
    const challenge = info.challenge === undefined ? '—[^|]*' : `\`${info.challenge}\``
    const row = new RegExp(`^\\| *\`${code}\` *\\| *${info.status} *\\| *${challenge} *\\|`, 'm')
    expect(row.test(errorsDoc), `docs/errors.md has no row \`${code}\` | ${info.status} | ${info.challenge ?? '—'} |`).toBe(true)
  })

  it('has no errors-table row for a code ERROR_TABLE lacks', () => {
    const rows = [...errorsDoc.matchAll(/^\| *`(ERR_[A-Z0-9_]+)` *\|/gm)].map((m) => m[1]!)
    expect(rows.filter((code) => !Object.hasOwn(ERROR_TABLE, code))).toEqual([])
  })
})

describe('docs/performance.md', () => {
  it('keeps the placeholder for the performance section', () => {
    expect(read('docs/performance.md')).toContain('<!-- performance -->')
  })
})
