import type { KeyObject, webcrypto } from 'node:crypto'
import type { JWK } from 'jose'

/** A WebCrypto key (Node's `webcrypto.CryptoKey`). */
export type CryptoKeyLike = webcrypto.CryptoKey

/** A verification key as `getKey` may return it. */
export type KeyInput = CryptoKeyLike | KeyObject | JWK | Uint8Array | string
