// The packed tarball, installed in a temp project as a user would: ESM, CommonJS, TypeScript, every
// subpath in `exports`. Express and Fastify are not installed there, so importing their adapters
// proves an adapter loads no framework.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { headingAnchors, isRelative, linkTargets } from '../docs/markdown.js'
import { cjs, consumerApp, esm, koaApp, typedApp, typedMistakes } from './scripts.js'

const run = promisify(execFile)
const repo = fileURLToPath(new URL('../../', import.meta.url))
const types = join(repo, 'node_modules/@types')

type ExportTarget = string | Record<string, string>
let tmp: string
let project: string
let packed: Set<string>
let exportsMap: Record<string, ExportTarget>

async function node(script: string, file: string, ...args: string[]): Promise<any> {
  await writeFile(join(project, file), script)
  const { stdout } = await run(process.execPath, [file, ...args], { cwd: project, timeout: 30_000 })
  return JSON.parse(stdout)
}

const targets = (target: ExportTarget): string[] => (typeof target === 'string' ? [target] : Object.values(target))
const missingFrom = (subpath: string): string[] =>
  targets(exportsMap[subpath]!)
    .map((t) => t.replace(/^\.\//, ''))
    .filter((t) => !packed.has(t))

beforeAll(async () => {
  if (!existsSync(join(repo, 'dist/src/index.js'))) await run('npm', ['run', 'build'], { cwd: repo, timeout: 120_000 })
  tmp = await mkdtemp(join(tmpdir(), 'jwtguard-pack-'))
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: repo, timeout: 60_000 })
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[]
  packed = new Set(info!.files.map((f) => f.path))
  exportsMap = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')).exports

  project = join(tmp, 'app')
  await mkdir(project)
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'jwtguard-pack-check', private: true, type: 'module' }))
  const install = [
    'install',
    join(tmp, info!.filename),
    'koa@3',
    'zod@4',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    '--ignore-scripts',
  ]
  await run('npm', install, { cwd: project, timeout: 120_000 })
}, 240_000)

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

describe('the packed tarball', () => {
  it('holds the files of every export', () => {
    const ready = Object.keys(exportsMap)
    expect(ready).toEqual(['.', './express', './koa', './fastify', './adapter', './testing', './redis', './package.json'])
    expect(Object.fromEntries(ready.map((s) => [s, missingFrom(s)]))).toEqual(Object.fromEntries(ready.map((s) => [s, []])))
  })

  it('installs without Express or Fastify (optional peers), so nothing can load them', () => {
    // Resolved as the temp project would, walking up its parent folders too.
    const resolve = createRequire(join(project, 'package.json')).resolve
    expect(resolve('jwtguard/koa')).toBe(join(project, 'node_modules/jwtguard/dist/adapters/koa.js'))
    expect(resolve('koa').startsWith(join(project, 'node_modules/koa/'))).toBe(true)
    for (const framework of ['express', 'fastify']) {
      expect(() => resolve(framework)).toThrow(expect.objectContaining({ code: 'MODULE_NOT_FOUND' }))
    }
  })
})

describe('the docs in the tarball', () => {
  // What a user of the package reads (on npm, or in node_modules) must hold together: no link to a file the tarball
  // leaves out, no anchor to a heading that does not exist.
  const markdown = () => [...packed].filter((file) => file.endsWith('.md'))

  it('ships README.md and every file of docs/', async () => {
    const { readdir } = await import('node:fs/promises')
    const docs = (await readdir(join(repo, 'docs'))).map((f) => `docs/${f}`)
    expect(docs.length).toBeGreaterThan(10)
    expect(markdown().sort()).toEqual(['README.md', ...docs].sort())
  })

  it('has every relative link of README.md and docs/ resolve to a packed file, and each #anchor to a heading', async () => {
    const broken: string[] = []
    let checked = 0
    for (const file of markdown()) {
      for (const target of linkTargets(await readFile(join(repo, file), 'utf8')).filter(isRelative)) {
        checked++
        const [path, anchor] = target.split('#') as [string, string | undefined]
        const resolved = path === '' ? file : posix.normalize(posix.join(dirname(file), decodeURIComponent(path)))
        if (!packed.has(resolved)) {
          broken.push(`${file}: ${target} (no ${resolved} in the tarball)`)
        } else if (anchor !== undefined && !headingAnchors(await readFile(join(repo, resolved), 'utf8')).has(anchor)) {
          broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`)
        }
      }
    }
    expect(checked).toBeGreaterThan(20)
    expect(broken).toEqual([])
  })
})

describe('ESM', () => {
  it('imports every subpath (adapters with no framework installed) and verifies a token', async () => {
    const subpaths = Object.keys(exportsMap).filter((s) => s !== './package.json')
    const out = await node(esm, 'esm.mjs', JSON.stringify(subpaths))
    expect(out.sub).toBe('esm-user')
    expect(out.scopes).toEqual(['read'])
    expect(out.denied).toEqual({ isGuardError: true, code: 'ERR_JWT_INSUFFICIENT_SCOPE', status: 403 })
    expect(out.expiredStatus).toBe(401)
    expect(out.loaded['.']).toEqual(expect.arrayContaining(['createGuard', 'GuardError', 'ERROR_CODES', 'requireScopes', 'requireRoles']))
    for (const adapter of ['./express', './koa', './fastify']) {
      expect(out.loaded[adapter]).toEqual(expect.arrayContaining(['jwtGuard', 'requireScopes', 'requireRoles', 'requireClaims']))
    }
    expect(out.loaded['./fastify']).toContain('default')
    expect(out.loaded['./testing']).toContain('createTestIssuer')
    expect(out.loaded['./adapter']).toEqual(
      expect.arrayContaining([
        'RequestView',
        'authenticateThen',
        'authenticateNow',
        'isPending',
        'GUARD_KEY',
        'AUTHENTICATE_NOW',
        'runCheck',
        'resolveGuard',
      ]),
    )
  })

  it('a Koa 3 app with jwtguard/koa answers 401 without a token and 200 with one', async () => {
    const out = await node(koaApp, 'koa.mjs')
    expect(out.anonymous).toEqual({ status: 401, challenge: 'Bearer realm="api"' })
    expect(out.authorized).toEqual({ status: 200, body: { sub: 'koa-user' } })
  })
})

describe('CommonJS', () => {
  it('require()s the core and jwtguard/koa and verifies a token', async () => {
    const out = await node(cjs, 'cjs.cjs')
    expect(out.sub).toBe('cjs-user')
    expect(out.koa).toEqual(expect.arrayContaining(['jwtGuard', 'requireScopes', 'createGuard']))
  })
})

describe('TypeScript', () => {
  it('types req.auth, ctx.state.auth and request.auth with augmented claims; wrong code does not compile', async () => {
    // The frameworks' types come from the repo: the temp project installs no @types and no Express or Fastify.
    const compilerOptions = {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [types],
      paths: {
        koa: [join(types, 'koa/index.d.ts')],
        express: [join(types, 'express/index.d.ts')],
        fastify: [join(repo, 'node_modules/fastify/fastify.d.ts')],
      },
    }
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['app.ts', 'mistakes.ts'] }))
    await writeFile(join(project, 'app.ts'), typedApp)
    await writeFile(join(project, 'mistakes.ts'), typedMistakes)
    const tsc = join(repo, 'node_modules/.bin/tsc')
    const result = await run(tsc, ['-p', 'tsconfig.json'], { cwd: project, timeout: 90_000 }).catch((err) => err)
    expect(result.stdout).toBe('')
    expect(result.code ?? 0).toBe(0)
  }, 120_000)
})

describe('TypeScript consumers, strictest settings, no generics', () => {
  // The shipped .d.ts are checked too (skipLibCheck off), under the flags careful projects use.
  const strictest = {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    noEmit: true,
    target: 'ES2022',
    lib: ['ES2023'],
    types: ['node'],
    typeRoots: [types],
    esModuleInterop: true,
    paths: {
      koa: [join(types, 'koa/index.d.ts')],
      express: [join(types, 'express/index.d.ts')],
      fastify: [join(repo, 'node_modules/fastify/fastify.d.ts')],
      // @types/koa names content-disposition's Options, which the untyped package's own types lack.
      'content-disposition': [join(types, 'content-disposition/index.d.ts')],
    },
  }
  it.each([
    ['module nodenext, ESM', 'module', { module: 'NodeNext', moduleResolution: 'NodeNext' }, 'esm'],
    ['module nodenext, CommonJS', 'commonjs', { module: 'NodeNext', moduleResolution: 'NodeNext' }, 'cjs'],
    ['moduleResolution bundler', 'module', { module: 'ESNext', moduleResolution: 'Bundler' }, 'esm'],
  ] as const)(
    '%s: compiles with payloads typed from DefaultClaims or the schema',
    async (_name, type, moduleOptions, flavour) => {
      const dir = join(project, `ts-${flavour}-${moduleOptions.moduleResolution.toLowerCase()}`)
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }))
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { ...strictest, ...moduleOptions }, files: ['app.ts'] }),
      )
      await writeFile(join(dir, 'app.ts'), consumerApp(flavour))
      const tsc = join(repo, 'node_modules/.bin/tsc')
      const result = await run(tsc, ['-p', 'tsconfig.json'], { cwd: dir, timeout: 90_000 }).catch((err) => err)
      expect(result.stdout).toBe('')
      expect(result.code ?? 0).toBe(0)
    },
    120_000,
  )
})
