// Issue 18 item 4: the usage text and the CLI docs list every flag `jwtguard verify` takes. The docs are
// docs/cli.md when it exists, else the README's "Token doctor (CLI)" section.
import { existsSync, readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import { VERIFY_FLAGS } from '../../src/cli/verify.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const flags = Object.keys(VERIFY_FLAGS).map((name) => `--${name}`)

function cliDocs(): string {
  if (existsSync(`${repo}docs/cli.md`)) return readFileSync(`${repo}docs/cli.md`, 'utf8')
  const readme = readFileSync(`${repo}README.md`, 'utf8')
  const start = readme.indexOf('## Token doctor (CLI)')
  expect(start).toBeGreaterThanOrEqual(0)
  const end = readme.indexOf('\n## ', start + 1)
  return readme.slice(start, end === -1 ? undefined : end)
}

async function usage(): Promise<string> {
  let text = ''
  await main(['--help'], {
    stdout: { write: (t: string) => (text += t) },
    stderr: { write: () => true },
    stdin: Readable.from(['']),
    env: {},
  })
  return text
}

describe('every verify flag is documented', () => {
  it.each(flags)('%s is in the usage text and the CLI docs', async (flag) => {
    expect(await usage()).toMatch(new RegExp(`${flag}\\b(?!-)`))
    expect(cliDocs()).toMatch(new RegExp(`\`${flag}\\b(?!-)`))
  })
})
