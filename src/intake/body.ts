import { GuardError } from '../errors.js'

/**
 * What the body source reads of a request: the body the app's own parser left
 * (adapters expose it lazily, so a guard without a body source never asks),
 * and the parser to name when there is none.
 */
export interface BodyRequest {
  headers: Record<string, string | string[] | undefined>
  method?: string | undefined
  /** The parsed body: an object of form fields, or `undefined` when nothing parsed it. */
  readonly body?: unknown
  /** The parser this framework needs for form bodies, e.g. `express.urlencoded()`: named in the 500. */
  readonly bodyParser?: string | undefined
}

// RFC 6750 §2.2: only a method whose request body has defined semantics; never GET (nor HEAD, DELETE …).
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])
const FORM = 'application/x-www-form-urlencoded'

/**
 * Whether the request is a form post the body source may read (RFC 6750 §2.2): its method, its content
 * type, and a body at all (parsers skip a request without one, leaving nothing to tell a missing parser by).
 */
function isFormPost(request: BodyRequest): boolean {
  if (!BODY_METHODS.has(request.method?.toUpperCase() ?? 'GET')) return false
  const { headers } = request
  const length = headers['content-length']
  if (headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return false
  const type = headers['content-type']
  if (typeof type !== 'string') return false
  const semi = type.indexOf(';')
  return (semi === -1 ? type : type.slice(0, semi)).trim().toLowerCase() === FORM
}

/**
 * The RFC 6750 §2.2 form-encoded body parameter `name`. Any other request (a
 * GET, a JSON body) carries no token here. A form post whose body nothing
 * parsed is the server's fault: a 500 naming the parser to add.
 */
export function readBody(request: BodyRequest, name: string): string | undefined {
  if (!isFormPost(request)) return undefined
  const body = request.body
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const parser = request.bodyParser ?? 'a form body parser (the request needs a parsed `body`)'
    const error = new GuardError('ERR_BODY_NOT_PARSED', `Form body not parsed: add ${parser} before the guard`, {
      reason: 'body_not_parsed',
      parser,
    })
    // Advice for the server's logs, not for the client: renderers that honour `expose` answer a bare 500.
    Object.defineProperty(error, 'expose', { value: false })
    throw error
  }
  // Own fields only: `constructor` or `__proto__` of a plain object is no token.
  const value = Object.hasOwn(body, name) ? (body as Record<string, unknown>)[name] : undefined
  if (Array.isArray(value)) throw new GuardError('ERR_REQUEST_INVALID', 'Token sent more than once', { reason: 'multiple_tokens' })
  return typeof value === 'string' && value !== '' ? value : undefined
}
