// Library users never load the gateway: no module reachable by a static import from the package's entry points
// (the core, the adapters, the CLI) is under src/serve/ or imports prom-client; `serve` loads both on demand.
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const ENTRIES = [
  'src/index.ts',
  'src/cli.ts',
  'src/testing/index.ts',
  'src/revocation/redis.ts',
  'adapters/express.ts',
  'adapters/koa.ts',
  'adapters/fastify.ts',
]
// Static `import … from '…'` and `export … from '…'`, not `import('…')`.
const STATIC = /^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm

function reachable(): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    for (const [, spec] of readFileSync(join(repo, file), 'utf8').matchAll(STATIC)) {
      if (!spec!.startsWith('.')) packages.add(spec!)
      else visit(relative(repo, resolve(repo, dirname(file), spec!.replace(/\.js$/, '.ts'))))
    }
  }
  ENTRIES.forEach(visit)
  return { files, packages }
}

describe('gateway isolation', () => {
  it('keeps src/serve and prom-client out of every static import graph', () => {
    const { files, packages } = reachable()
    expect(files.has('src/guard.ts')).toBe(true)
    expect([...files].filter((f) => f.startsWith('src/serve/'))).toEqual([])
    expect(packages.has('prom-client')).toBe(false)
  })

  it('loads serve from the CLI only through a dynamic import', () => {
    expect(readFileSync(join(repo, 'src/cli.ts'), 'utf8')).toContain("await import('./serve/command.js')")
    expect(readFileSync(join(repo, 'src/serve/metrics.ts'), 'utf8')).toContain("await import('prom-client')")
  })
})
