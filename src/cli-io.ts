/** Where the command reads and writes: `process`'s streams, or stand-ins in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean }
  stderr: { write(text: string): unknown }
  stdin: AsyncIterable<string | Uint8Array>
  env: Record<string, string | undefined>
}
