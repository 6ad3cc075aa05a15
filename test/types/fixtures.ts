import { SignJWT } from 'jose'

// HS256 keeps the type tests off the network: no key set to fetch.
const secret = 'type-tests-shared-secret-of-32-bytes-or-more'

/** Guard options every type test shares. */
export const options = { issuer: 'https://issuer.example.test', audience: 'https://api.example.test', secret }

/** A valid HS256 token for `options`, with extra claims. */
export function mint(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ iss: options.issuer, aud: options.audience, sub: 'user-1', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret))
}
