import { optionError } from '../option-error.js'
import type { JwksCacheOptions } from './options.js'
import { DEFAULT_REMOTE_SETTINGS, type RemoteSettings } from './remote.js'

/** `jwksCache` with its defaults, every member a non-negative number of milliseconds. */
export function jwksCacheSettings(value: JwksCacheOptions | undefined): RemoteSettings {
  if (value === undefined) return DEFAULT_REMOTE_SETTINGS
  if (typeof value !== 'object' || value === null) throw optionError('jwksCache', 'must be an object', { given: value })
  const out = { ...DEFAULT_REMOTE_SETTINGS }
  for (const key of Object.keys(value) as (keyof RemoteSettings)[]) {
    if (!Object.hasOwn(out, key)) throw optionError('jwksCache', `has an unknown member "${key}"`)
    const n = value[key]
    if (n === undefined) continue
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
      throw optionError(`jwksCache.${key}`, 'must be a non-negative number of milliseconds', { given: n })
    out[key] = n
  }
  if (out.timeoutDuration === 0) throw optionError('jwksCache.timeoutDuration', 'must be greater than 0')
  if (out.maxResponseSize === 0) throw optionError('jwksCache.maxResponseSize', 'must be greater than 0')
  return out
}
