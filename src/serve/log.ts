/** One JSON object per line: what `jwtguard serve` tells operators. Never a token. */
export type Log = (entry: Record<string, unknown>) => void

export function jsonLog(stream: { write(text: string): unknown }): Log {
  return (entry) => {
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`)
  }
}
