// Every ```ts block of README.md and docs/ is compiled, as a user's module that imports `jwtguard`, `jwtguard/express`
// … (mapped to this repository's sources). A block that is a fragment gets the few declarations below, and nothing
// else: what it uses but does not define (an `app`, an `issuer` string), never a type it is meant to show.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codeBlocks } from './markdown.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))

const strings = (...names: string[]) => `declare const ${names.map((n) => `${n}: string`).join(', ')}\n`
const expressApp = `declare const app: import('express').Express\n`

/** Declarations put before a fragment, by file, then by the block's index among the file's ts blocks. */
const preludes: Record<string, Record<number, string>> = {
  'docs/adapter.md': {
    0: `declare const expressApp: import('express').Express\ndeclare const fastifyApp: import('fastify').FastifyInstance\n`,
  },
  'docs/dpop.md': { 0: `import { jwtGuard } from 'jwtguard/express'\n` + strings('issuer', 'audience') },
  'docs/errors.md': { 0: expressApp },
  'docs/mcp.md': { 0: `import { jwtGuard } from 'jwtguard/express'\n` + expressApp + strings('issuer') },
  'docs/migration.md': {
    0: expressApp + `declare const handler: import('express').RequestHandler\n`,
    1: expressApp + `declare const health: import('express').RequestHandler\n`,
    2:
      `declare const app: import('koa')\ndeclare const publicRouter: import('@koa/router').Router\n` +
      strings('jwksUri', 'issuer', 'audience'),
    3: `declare const app: import('fastify').FastifyInstance\n` + strings('publicPem', 'issuer', 'audience'),
  },
  'docs/mtls.md': { 0: `import { jwtGuard } from 'jwtguard/express'\n` + expressApp + strings('issuer', 'audience') },
  'docs/options.md': { 0: `import { createGuard } from 'jwtguard'\n` },
  'docs/presets.md': { 0: `import { jwtGuard } from 'jwtguard/express'\n` + strings('issuer', 'audience') },
  'docs/revocation.md': { 0: strings('issuer', 'audience', 'jti', 'sub') + 'declare const exp: number\n' },
  'docs/routes.md': { 0: `import { requireClaims, requireRoles, requireScopes } from 'jwtguard/express'\n` },
}

/** The app a test block imports (`../src/server.js`), declared: its shape is what the block says it is. */
const server = `export declare function start(options: { issuer: string; audience: string | string[] }): Promise<{ url: string; close(): Promise<void> }>\n`

const subpaths = {
  jwtguard: 'src/index.ts',
  'jwtguard/express': 'adapters/express.ts',
  'jwtguard/koa': 'adapters/koa.ts',
  'jwtguard/fastify': 'adapters/fastify.ts',
  'jwtguard/adapter': 'src/adapter.ts',
  'jwtguard/testing': 'src/testing/index.ts',
  'jwtguard/redis': 'src/revocation/redis.ts',
  // Installed under an npm alias here (beside @fastify/formbody 7 for Fastify 4); users import it by its name.
  '@fastify/formbody': 'node_modules/formbody5/types/index.d.ts',
}

interface Block {
  doc: string
  line: number
  file: string
  /**
   * The program it is compiled in: `main`; `peers` for the "before" half of a migration block (a peer's own type
   * augmentations, such as express-oauth2-jwt-bearer's `Request.auth`, are not jwtguard's); or a program of its own
   * for a `declare module` augmentation, which would change what every other block sees.
   */
  program: string
}

let tmp: string
const blocks: Block[] = []

beforeAll(async () => {
  // Under node_modules/.cache so that express, koa, the peers … resolve from the repository's node_modules.
  await mkdir(join(repo, 'node_modules/.cache'), { recursive: true })
  tmp = await mkdtemp(join(repo, 'node_modules/.cache/jwtguard-docs-'))
  await mkdir(join(tmp, 'docs'))
  await mkdir(join(tmp, 'src'))
  await writeFile(join(tmp, 'package.json'), JSON.stringify({ name: 'docs-blocks', private: true, type: 'module' }))
  await writeFile(join(tmp, 'src/server.ts'), server)
  const docs = ['README.md', ...(await readdir(join(repo, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
  for (const doc of docs) {
    const ts = codeBlocks(await readFile(join(repo, doc), 'utf8')).filter((b) => b.lang === 'ts')
    for (const [index, block] of ts.entries()) {
      // A migration block holds the peer's code, then jwtguard's after `// after`.
      const halves = doc === 'docs/migration.md' ? block.code.split('\n// after\n') : [block.code]
      if (doc === 'docs/migration.md') expect(halves, `${doc}:${block.line} has a before and an after`).toHaveLength(2)
      for (const [half, code] of halves.entries()) {
        const file = join(tmp, 'docs', `${doc.replace(/\W/g, '_')}_${block.line}_${half}.ts`)
        await writeFile(file, `${preludes[doc]?.[index] ?? ''}${code}\nexport {}\n`)
        const program = code.includes('declare module') ? file : halves.length > 1 && half === 0 ? 'peers' : 'main'
        blocks.push({ doc, line: block.line, file, program })
      }
    }
  }
})

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

let previous: ts.Program | undefined

function compile(files: string[]): string[] {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2024.d.ts'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    types: ['node'],
    paths: Object.fromEntries(Object.entries(subpaths).map(([name, path]) => [name, [join(repo, path)]])),
  }
  // The previous program lends its parsed files (the sources, the frameworks' types) to the next one.
  const program = ts.createProgram(files, options, undefined, previous)
  previous = program
  const where = (file: string | undefined) => {
    const block = blocks.find((b) => b.file === file)
    return block ? `${block.doc} (block at line ${block.line})` : (file ?? '')
  }
  return ts.getPreEmitDiagnostics(program).map((d) => `${where(d.file?.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
}

describe('the ts code blocks of README.md and docs/', () => {
  it('finds the blocks (so the checks below are not vacuous)', () => {
    expect(blocks.length).toBeGreaterThan(15)
    expect(blocks.filter((b) => b.doc === 'README.md')).toHaveLength(3)
    expect(blocks.filter((b) => b.doc === 'docs/migration.md')).toHaveLength(8)
  })

  it('shows typed claims with claimsSchema passed to the guard', async () => {
    const typed = codeBlocks(await readFile(join(repo, 'docs/typed-claims.md'), 'utf8')).filter((b) => b.lang === 'ts')
    expect(typed.some((b) => /createGuard\(\{[^}]*\bclaimsSchema\b[^}]*\}\)/.test(b.code) && b.code.includes('.verify('))).toBe(true)
  })

  it('compiles the blocks of the main program', () => {
    expect(compile(blocks.filter((b) => b.program === 'main').map((b) => b.file))).toEqual([])
  }, 180_000)

  it("compiles the migration notes' before halves, with the peers", () => {
    const peers = blocks.filter((b) => b.program === 'peers')
    expect(peers).toHaveLength(4)
    expect(compile(peers.map((b) => b.file))).toEqual([])
  }, 180_000)

  it('compiles each augmentation alone', () => {
    const alone = blocks.filter((b) => b.program === b.file)
    expect(alone).toHaveLength(2)
    expect(alone.flatMap((b) => compile([b.file]))).toEqual([])
  }, 180_000)
})
