/** Edit distance, for "did you mean" hints on unknown config fields. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost))
    }
    previous = current
  }
  return previous[b.length]!
}

/** The known name closest to `name`. */
export function closest(name: string, known: readonly string[]): string {
  let best = known[0]!
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of known) {
    const d = distance(name, candidate)
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return best
}

/** Messages for the members of `object` that are not in `known`, each naming the closest known one. */
export function unknownFields(object: object, known: readonly string[], where: string): string[] {
  return Object.keys(object)
    .filter((key) => !known.includes(key))
    .map((key) =>
      known.length === 0
        ? `${where}: unknown field "${key}" (it takes none)`
        : `${where}: unknown field "${key}" (did you mean "${closest(key, known)}"?)`,
    )
}

// RFC 9110 §5.6.2 token: header names and methods.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

export const isToken = (value: unknown): value is string => typeof value === 'string' && TOKEN.test(value)

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
