import type { IssuerPolicy } from '../claims/validate.js'
import type { EventSink } from '../events.js'
import { fillAlgorithms } from './allowed.js'
import { jwksCacheSettings } from './cache-settings.js'
import { chooseKeySource } from './choice.js'
import type { GuardKeyOptions, JwsAlgorithm } from './options.js'
import { createKeyResolver, type KeyResolver } from './sources.js'

/** A guard's keys, resolved once: the source its options chose, built, and every algorithm some issuer accepts. */
export interface GuardKeys {
  readonly keys: KeyResolver
  /** The union of the issuers' algorithms, in the order resolved (each issuer's own set is filled in its policy). */
  readonly algorithms: JwsAlgorithm[]
}

/**
 * Chooses the key source, builds it and fills each issuer's algorithms (`own[i]` is issuer i's
 * `algorithms` option). Throws an option error naming the key option at fault.
 */
export function resolveKeys(
  options: GuardKeyOptions,
  issuers: readonly IssuerPolicy[],
  own: readonly (readonly JwsAlgorithm[] | undefined)[],
  emit: EventSink | undefined,
): GuardKeys {
  const source = chooseKeySource(options, issuers)
  const keys = createKeyResolver(source, issuers, jwksCacheSettings(options.jwksCache), emit)
  return { keys, algorithms: fillAlgorithms(source, keys, options.algorithms, issuers, own) }
}
