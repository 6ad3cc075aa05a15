import type { JSONWebKeySet } from 'jose'
import type { IssuerPolicy } from '../claims/validate.js'
import { optionError } from '../option-error.js'
import { checkRemoteUrl } from './fetch.js'
import type { GuardKeyOptions } from './options.js'

/**
 * The one key source a guard's options name, chosen and checked at construction, before anything is
 * imported or fetched. `remote` without a `jwksUri` discovers each issuer's `jwks_uri`.
 */
export type KeySource =
  | { readonly kind: 'publicKey'; readonly value: unknown }
  | { readonly kind: 'secret'; readonly value: unknown }
  | { readonly kind: 'jwks'; readonly value: JSONWebKeySet }
  | { readonly kind: 'getKey'; readonly getKey: NonNullable<GuardKeyOptions['getKey']> }
  | { readonly kind: 'remote'; readonly jwksUri: string | undefined }

const KEY_SOURCES = ['jwksUri', 'jwks', 'publicKey', 'secret', 'getKey'] as const

/**
 * Chooses the key source the options name (at most one; none means discovery from the issuers) and checks
 * it against the configured issuers: remote keys come from URLs that may be fetched, and an issuer's own
 * `jwksUri` needs remote keys. Throws an option error naming the option at fault.
 */
export function chooseKeySource(options: GuardKeyOptions, issuers: readonly IssuerPolicy[]): KeySource {
  const given = KEY_SOURCES.filter((name) => options[name] !== undefined)
  if (given.length > 1) throw optionError(given[1]!, `cannot be given with "${given[0]}": give one key source`)
  const source = sourceOf(options, given[0])
  issuers.forEach((p, i) => {
    if (p.jwksUri === undefined) {
      // Discovery: the issuer itself is fetched from, so it must be a URL we may fetch.
      if (source.kind === 'remote' && source.jwksUri === undefined)
        checkRemoteUrl(p.issuer, issuers.length === 1 ? 'issuer' : `issuer[${i}]`)
    } else if (source.kind === 'remote') checkRemoteUrl(p.jwksUri, `issuer[${i}].jwksUri`)
    else throw optionError('issuer', 'entries may set "jwksUri" only when the guard uses remote keys')
  })
  return source
}

function sourceOf(options: GuardKeyOptions, name: (typeof KEY_SOURCES)[number] | undefined): KeySource {
  switch (name) {
    case 'jwksUri':
      if (typeof options.jwksUri !== 'string') throw optionError('jwksUri', 'must be a URL string', { given: options.jwksUri })
      checkRemoteUrl(options.jwksUri, 'jwksUri')
      return { kind: 'remote', jwksUri: options.jwksUri }
    case 'publicKey':
      return { kind: 'publicKey', value: options.publicKey }
    case 'secret':
      return { kind: 'secret', value: options.secret }
    case 'jwks':
      return { kind: 'jwks', value: options.jwks! }
    case 'getKey':
      if (typeof options.getKey !== 'function') throw optionError('getKey', 'must be a function', { given: options.getKey })
      return { kind: 'getKey', getKey: options.getKey }
    case undefined:
      return { kind: 'remote', jwksUri: undefined }
  }
}
