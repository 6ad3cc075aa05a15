import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : []
  })
}

// Static imports and re-exports (`import type` included: a type cycle is still a cycle to read through),
// side-effect imports (`import './x.js'`) and `import('./x.js')`, in code or in a type position.
const SPECIFIER =
  /(?:^|\n)\s*(?:import|export)\s[^;'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3]
    if (!spec?.startsWith('.')) continue
    found.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
  }
  return found
}

/** Every cycle in the import graph, each as its list of files (relative to the repository). */
function cycles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]))
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (file: string): void => {
    state.set(file, 'open')
    stack.push(file)
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push(stack.slice(stack.indexOf(next)).map((f) => relative(root, f)))
      else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(file, 'done')
  }
  for (const f of files) if (!state.has(f)) visit(f)
  return found
}

describe('the module graph', () => {
  const files = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'adapters'))]

  it('has no import cycle, type imports included', () => {
    expect(cycles(files)).toEqual([])
  })

  it('keeps the core free of framework imports', () => {
    const frameworks = /from\s*['"](express|koa|fastify|@koa\/[^'"]+|@fastify\/[^'"]+)['"]/
    const offenders = sourceFiles(join(root, 'src')).filter((f) => frameworks.test(readFileSync(f, 'utf8')))
    expect(offenders.map((f) => relative(root, f))).toEqual([])
  })

  // a ↔ b: `import type` both ways; c ↔ d: an inline `import('./d.js')` type and an `export type … from`;
  // e ↔ f: a side-effect import and an `import type`.
  it.each([
    ['a', 'b'],
    ['c', 'd'],
    ['e', 'f'],
  ])('finds a cycle when there is one (the detector itself works): %s ↔ %s', (x, y) => {
    expect(cycles([join(root, `test/architecture/fixtures/${x}.ts`), join(root, `test/architecture/fixtures/${y}.ts`)])).toHaveLength(1)
  })
})
