import { printable } from '../explain.js'

/** Where the command reads and writes: `process`'s streams, or stand-ins in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean }
  stderr: { write(text: string): unknown }
  stdin: AsyncIterable<string | Uint8Array>
  env: Record<string, string | undefined>
}

// Bounds what `-` reads: the guard refuses anything over 8 KiB by default anyway.
const MAX_STDIN = 1024 * 1024

export function print(io: CliIo, text: string, code: number): number {
  io.stdout.write(text)
  return code
}

/**
 * Lines that show a token's strings, each made printable: a claim named or
 * valued with ESC, C1 or bidi controls cannot drive the terminal, nor (with a
 * newline) forge a line of its own.
 */
export const printLines = (io: CliIo, lines: string[], code: number): number => print(io, `${lines.map(printable).join('\n')}\n`, code)

/** A note for the person at the terminal, printable whatever it quotes. */
export const note = (io: CliIo, text: string): unknown => io.stderr.write(`${printable(`jwtguard: ${text}`)}\n`)

export async function tokenOf(positionals: string[], io: CliIo): Promise<string> {
  if (positionals.length !== 1) throw new TypeError('give exactly one token (or - to read it from stdin)')
  if (positionals[0] !== '-') return positionals[0]!
  let text = ''
  for await (const chunk of io.stdin) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    if (text.length > MAX_STDIN) throw new TypeError('stdin holds more than 1 MiB: that is no token')
  }
  return text.trim()
}
