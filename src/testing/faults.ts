import type { ServerResponse } from 'node:http'
import { gzipSync } from 'node:zlib'

/**
 * How the JWKS endpoint fails, for fault tests:
 * - `hang`: never answers; `stall`: sends headers and the start of a body, then nothing;
 * - `500`: an error status; `garbage`: 200 with a body that is not JSON;
 * - `huge`: 200 with a 20 MiB JSON body, chunked (no length); `huge-declared`: the same with its `content-length`;
 * - `gzip-bomb`: about 130 KiB of gzip that inflates to 128 MiB of zeros;
 * - `redirect`: 302 to `<jwksUri>-moved`, which serves the valid set (counted in `requests.redirected`).
 */
export type JwksFault = 'hang' | 'stall' | '500' | 'garbage' | 'huge' | 'huge-declared' | 'gzip-bomb' | 'redirect'

export const JWKS_FAULTS: readonly JwksFault[] = ['hang', 'stall', '500', 'garbage', 'huge', 'huge-declared', 'gzip-bomb', 'redirect']

const HUGE_BYTES = 20 * 1024 * 1024
const JSON_TYPE = { 'content-type': 'application/jwk-set+json' }

// 128 gzip members of 1 MiB of zeros each (a gzip stream may hold several; clients inflate them all): built in
// milliseconds on first use, without ever holding the 128 MiB.
let bomb: Buffer | undefined
function gzipBomb(): Buffer {
  bomb ??= Buffer.concat(Array<Buffer>(128).fill(gzipSync(Buffer.alloc(1024 * 1024), { level: 9 })))
  return bomb
}

/** Writes `total` bytes of JSON whitespace inside a JWKS, honouring back-pressure, until done or the client leaves. */
async function writeHuge(res: ServerResponse, total: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  const writable = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done).off('close', done)
        resolve()
      }
      res.on('drain', done).on('close', done)
    })
  res.write('{"keys":[')
  for (let sent = 0; sent < total && !res.destroyed; sent += chunk.length) {
    if (!res.write(chunk)) await writable()
  }
  if (!res.destroyed) res.end(']}')
}

/** Answers a JWKS request with `fault`; `movedTo` is the redirect target. */
export function answerFault(res: ServerResponse, fault: JwksFault, movedTo: string): void {
  switch (fault) {
    case 'hang':
      return
    case 'stall':
      return void res.writeHead(200, JSON_TYPE).write('{"keys":[')
    case '500':
      return void res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error')
    case 'garbage':
      return void res.writeHead(200, JSON_TYPE).end('<html>not json</html>')
    case 'huge':
      return void writeHuge(res.writeHead(200, JSON_TYPE), HUGE_BYTES)
    case 'huge-declared':
      return void writeHuge(res.writeHead(200, { ...JSON_TYPE, 'content-length': String(HUGE_BYTES + '{"keys":[]}'.length) }), HUGE_BYTES)
    case 'gzip-bomb': {
      const body = gzipBomb()
      return void res.writeHead(200, { ...JSON_TYPE, 'content-encoding': 'gzip', 'content-length': String(body.length) }).end(body)
    }
    case 'redirect':
      return void res.writeHead(302, { location: movedTo }).end()
  }
}
