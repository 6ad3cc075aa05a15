import { GuardError, type GuardErrorCode } from '../errors.js'
import { optionError } from '../option-error.js'

export interface FetchLimits {
  /** Epoch milliseconds by which the whole operation (discovery and JWKS) must be done. */
  deadline: number
  maxBytes: number
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/i

/** `https:`, or `http:` on a loopback host (tests, sidecars). Throws a TypeError naming the option. */
export function checkRemoteUrl(value: string, option: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw optionError(option, 'must be an absolute URL')
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname))) return url
  throw optionError(option, 'must use https: (http: only on a loopback host)')
}

function unavailable(code: GuardErrorCode, reason: string, cause?: unknown): GuardError {
  return new GuardError(code, 'Key source unavailable', { reason }, { cause })
}

/**
 * GET a JSON document with a deadline covering headers and body, no redirects,
 * and a size cap counted on the decompressed bytes as they arrive (so a gzip
 * bomb stops inflating at the cap). Every failure is a 503-class `GuardError`.
 */
export async function fetchJson(
  url: string,
  accept: string,
  limits: FetchLimits,
  code: GuardErrorCode = 'ERR_JWKS_UNAVAILABLE',
): Promise<unknown> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), Math.max(0, limits.deadline - Date.now()))
  try {
    let response: Response
    try {
      response = await fetch(url, { redirect: 'manual', signal: controller.signal, headers: { accept } })
    } catch (cause) {
      throw controller.signal.aborted ? unavailable('ERR_JWKS_TIMEOUT', 'timeout', cause) : unavailable(code, 'network', cause)
    }
    if (response.status !== 200) {
      void response.body?.cancel().catch(() => {})
      throw unavailable(code, response.status >= 300 && response.status < 400 ? 'redirect' : `status_${response.status}`)
    }
    const declared = Number(response.headers.get('content-length'))
    if (declared > limits.maxBytes) {
      void response.body?.cancel().catch(() => {})
      throw unavailable(code, 'too_large')
    }
    const chunks: Uint8Array[] = []
    let size = 0
    try {
      for await (const chunk of response.body ?? []) {
        size += chunk.byteLength
        if (size > limits.maxBytes) {
          controller.abort()
          throw unavailable(code, 'too_large')
        }
        chunks.push(chunk)
      }
    } catch (cause) {
      if (cause instanceof GuardError) throw cause
      throw controller.signal.aborted ? unavailable('ERR_JWKS_TIMEOUT', 'timeout', cause) : unavailable(code, 'network', cause)
    }
    try {
      return JSON.parse(Buffer.concat(chunks, size).toString('utf8'))
    } catch (cause) {
      throw unavailable(code === 'ERR_JWKS_UNAVAILABLE' ? 'ERR_JWKS_INVALID' : code, 'not_json', cause)
    }
  } finally {
    clearTimeout(timer)
  }
}
