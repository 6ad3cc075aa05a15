import { closestName } from '../known-options.js'

/** ` (did you mean "x"?)` when a known name is close to `name`, else nothing. */
export function didYouMean(name: string, known: readonly string[]): string {
  const guess = closestName(name, known)
  return guess === undefined ? '' : ` (did you mean "${guess}"?)`
}

/** Messages for the members of `object` that are not in `known`, each naming the closest known one. */
export function unknownFields(object: object, known: readonly string[], where: string): string[] {
  return Object.keys(object)
    .filter((key) => !known.includes(key))
    .map((key) =>
      known.length === 0 ? `${where}: unknown field "${key}" (it takes none)` : `${where}: unknown field "${key}"${didYouMean(key, known)}`,
    )
}

// RFC 9110 §5.6.2 token: header names and methods.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

export const isToken = (value: unknown): value is string => typeof value === 'string' && TOKEN.test(value)

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
