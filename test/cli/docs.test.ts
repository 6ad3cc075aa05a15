// Issue 18 item 4: the usage text and the CLI docs (docs/cli.md) list every flag `jwtguard verify` takes.
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import { VERIFY_FLAGS } from '../../src/cli/verify.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const flags = Object.keys(VERIFY_FLAGS).map((name) => `--${name}`)

const cliDocs = (): string => readFileSync(`${repo}docs/cli.md`, 'utf8')

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
