/**
 * What an option refusal may say about the value it refused. `given` is shown only as a type or a
 * number: a string may be a secret, an object may hold key material, a function's source is the
 * user's code, so none of them is ever written out.
 */
export interface OptionErrorDetails {
  /** The factory the option belongs to, when it is not `createGuard` (`'redisRevocationStore'`). */
  of?: string
  /** The refused value, described by its type (numbers, booleans, `null` and `undefined` verbatim). */
  given?: unknown
  /** The underlying error (an import failure), kept for logs. */
  cause?: unknown
}

function describe(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value)
    case 'object':
      return value === null ? 'null' : 'an object'
    default:
      return `a ${typeof value}`
  }
}

/**
 * The one error every bad option throws, at construction: a `TypeError` reading
 * `jwtguard: option "<path>" <problem>` (`jwtguard: <factory> option "<path>" …` for a store's
 * options), so that every refusal names the option the same way (and `jwtguard serve`, which strips
 * the prefix, reports it as a config problem). `path` is the option as a user writes it:
 * `dpop.nonce.lifetime`, `issuer[1].jwksUri`, `secret[0]`; `''` is the options object itself.
 */
export function optionError(path: string, problem: string, details: OptionErrorDetails = {}): TypeError {
  const subject = path === '' ? 'options' : `option "${path}"`
  const given = 'given' in details ? ` (given: ${describe(details.given)})` : ''
  const message = `jwtguard: ${details.of === undefined ? '' : `${details.of} `}${subject} ${problem}${given}`
  return 'cause' in details ? new TypeError(message, { cause: details.cause }) : new TypeError(message)
}
