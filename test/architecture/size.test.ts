// Small files that each do one thing: a source file past this size holds more than one job, split it.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const MAX_LINES = 260

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

const lines = (file: string): number => readFileSync(file, 'utf8').split('\n').length - 1

describe('source file size', () => {
  const files = sourceFiles(join(root, 'src'))

  it('reads the source tree (so the check below is not vacuous)', () => {
    expect(files.length).toBeGreaterThan(40)
    expect(files.map((f) => relative(root, f))).toContain('src/guard.ts')
  })

  it(`has no file in src/ over ${MAX_LINES} lines`, () => {
    const over = files.filter((f) => lines(f) > MAX_LINES).map((f) => `${relative(root, f)}: ${lines(f)} lines`)
    expect(over).toEqual([])
  })
})
