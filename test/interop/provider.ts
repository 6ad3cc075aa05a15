import { createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto'
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'

/** The slice of oidc-provider's `Provider` class these tests use (the package ships no type declarations). */
interface OidcProvider {
  callback(): RequestListener
}
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider

/**
 * oidc-provider prints "Unsupported runtime" at import time on Node 20 (it wants 22 LTS). Everything used here
 * works on Node 20, so that single line is dropped; every other warning still prints.
 */
async function importProvider(): Promise<ProviderClass> {
  const warn = console.warn
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('oidc-provider WARNING: Unsupported runtime')) warn(...args)
  }
  try {
    // @ts-expect-error -- oidc-provider ships no type declarations; ProviderClass above types what is used.
    const mod = (await import('oidc-provider')) as { default: ProviderClass }
    return mod.default
  } finally {
    console.warn = warn
  }
}

const Provider = await importProvider()

export interface ProviderOptions {
  /** The resource indicator (and `aud`) of the API. Default `'https://orders.example.test'`. */
  resource?: string
  /** Encrypt access tokens to this public key: a nested JWT (JWE, RSA-OAEP-256 / A256GCM, around the JWS). */
  encrypt?: { publicJwk: JWK | KeyObject; kid?: string }
  /** Enable DPoP (RFC 9449) at the token endpoint. Default `false`. */
  dpop?: boolean
  /**
   * Issue certificate-bound tokens (RFC 8705, `features.mTLS.certificateBoundAccessTokens`). The provider
   * runs on plain HTTP here: `token({ clientCertificate })` hands it the client's certificate PEM in a header.
   */
  mtls?: boolean
}

export interface TokenParams {
  /** `resource` parameter. Default: the provider's resource. */
  resource?: string
  /** Space-delimited scopes. Default `'orders:read orders:write'`. */
  scope?: string
  /** A DPoP proof JWT for the token endpoint, sent as the `DPoP` header. */
  dpopProof?: string
  /** With `mtls`: the PEM of the client certificate the token is bound to. */
  clientCertificate?: string
}

export interface RunningProvider {
  readonly issuer: string
  readonly resource: string
  /** Where `token()` posts (the `htu` of DPoP proofs). */
  readonly tokenEndpoint: string
  /** The `kid` access tokens are signed with now. */
  readonly kid: string
  /** Runs the client_credentials grant and returns the raw access token. */
  token(params?: TokenParams): Promise<string>
  /** Signs with a new RSA key from now on; `keepOld: false` also stops publishing the previous keys. Default `true`. */
  rotate(options?: { keepOld?: boolean }): Promise<void>
  close(): Promise<void>
}

export const CLIENT_ID = 'orders-client'
const CLIENT_SECRET = randomBytes(32).toString('base64url')
const SCOPES = 'orders:read orders:write'

interface SigningKey extends JsonWebKey {
  kid: string
}

let generation = 0
function rsaKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { ...privateKey.export({ format: 'jwk' }), kid: `rsa-${++generation}`, alg: 'RS256', use: 'sig' }
}

function ecKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { ...privateKey.export({ format: 'jwk' }), kid: `ec-${++generation}`, alg: 'ES256', use: 'sig' }
}

/**
 * A minimal per-provider store. Passing any adapter avoids oidc-provider's "development-only in-memory adapter"
 * warning; these flows only save and look up artifacts (tokens, DPoP proof jtis).
 */
function mapAdapter() {
  const store = new Map<string, unknown>()
  return (model: string) => ({
    upsert: async (id: string, payload: unknown) => void store.set(`${model}:${id}`, payload),
    find: async (id: string) => store.get(`${model}:${id}`),
    destroy: async (id: string) => void store.delete(`${model}:${id}`),
  })
}

/**
 * Starts oidc-provider on 127.0.0.1 with one client_credentials client whose tokens are RFC 9068 JWTs.
 *
 * The http server listens first so the issuer can carry its port. oidc-provider reads its keys only at
 * construction, so `rotate()` builds a new Provider with the new key set and swaps the server's request
 * handler; the issuer, client and port stay the same.
 */
export async function startProvider(options: ProviderOptions = {}): Promise<RunningProvider> {
  const resource = options.resource ?? 'https://orders.example.test'
  // Set by install() before the first request can arrive; rotate() replaces it.
  let handler: RequestListener
  const server = createServer((req, res) => handler(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const adapter = mapAdapter()
  const encrypt = options.encrypt && {
    alg: 'RSA-OAEP-256',
    enc: 'A256GCM',
    key:
      'kty' in options.encrypt.publicJwk ? createPublicKey({ key: options.encrypt.publicJwk, format: 'jwk' }) : options.encrypt.publicJwk,
    kid: options.encrypt.kid,
  }

  let current = rsaKey()
  // The EC key stays for the provider's life: the published JWKS mixes key types, as real ones do.
  const ec = ecKey()
  let signing: SigningKey[] = [current]

  const install = () => {
    const provider = new Provider(issuer, {
      adapter,
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          ...(options.mtls && { tls_client_certificate_bound_access_tokens: true }),
        },
      ],
      jwks: { keys: [...signing, ec] },
      // A number instead of the default function, which logs "you SHOULD change it".
      ttl: { ClientCredentials: 600 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        dPoP: { enabled: options.dpop === true },
        mTLS: {
          enabled: options.mtls === true,
          certificateBoundAccessTokens: true,
          getCertificate: (ctx: { get(name: string): string }) =>
            Buffer.from(ctx.get('x-test-client-certificate'), 'base64url').toString('utf8') || undefined,
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => resource,
          // Any requested resource is an API of its own: its token's `aud` is that resource.
          getResourceServerInfo: (_ctx: unknown, indicator: string) => ({
            scope: SCOPES,
            audience: indicator,
            accessTokenFormat: 'jwt',
            // With several RSA keys held (old ones kept published), the kid picks the current one.
            jwt: { sign: { alg: 'RS256', kid: current.kid }, ...(encrypt && { encrypt }) },
          }),
        },
      },
    })
    handler = provider.callback()
  }
  install()

  const tokenEndpoint = `${issuer}/token`
  return {
    issuer,
    resource,
    tokenEndpoint,
    get kid() {
      return current.kid
    },
    async token(params = {}) {
      const headers: Record<string, string> = {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      }
      if (params.dpopProof) headers.dpop = params.dpopProof
      if (params.clientCertificate) headers['x-test-client-certificate'] = Buffer.from(params.clientCertificate).toString('base64url')
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        resource: params.resource ?? resource,
        scope: params.scope ?? SCOPES,
      })
      const response = await fetch(tokenEndpoint, { method: 'POST', headers, body })
      const json = (await response.json()) as { access_token?: string; error?: string; error_description?: string }
      if (response.status !== 200 || !json.access_token)
        throw new Error(`token endpoint answered ${response.status}: ${json.error} ${json.error_description}`)
      return json.access_token
    },
    async rotate({ keepOld = true } = {}) {
      current = rsaKey()
      signing = keepOld ? [current, ...signing] : [current]
      install()
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
    },
  }
}
