// Migrating from express-oauth2-jwt-bearer: both packages augment Express's `Request.auth`. With
// `skipLibCheck` (tsc --init's default) an app that has both installed compiles, and code written
// for theirs (`req.auth.payload`, `req.auth.header`, `req.auth.token`) compiles against jwtguard's.
import express from 'express'
import { auth } from 'express-oauth2-jwt-bearer'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { jwtGuard } from '../../adapters/express.js'
import type { AuthInfo } from '../../src/index.js'

describe('beside express-oauth2-jwt-bearer', () => {
  it('req.auth keeps the shape both packages give it', () => {
    const app = express()
    app.use('/old', auth({ issuerBaseURL: 'https://idp.example.com/', audience: 'api' }))
    app.use(jwtGuard({ issuer: 'https://idp.example.com/', audience: 'api' }))
    app.get('/', (req, res) => {
      expectTypeOf(req.auth).toEqualTypeOf<AuthInfo | undefined>()
      expectTypeOf(req.auth!.payload.sub).toEqualTypeOf<string | undefined>()
      expectTypeOf(req.auth!.token).toEqualTypeOf<string>()
      res.json({ sub: req.auth?.payload.sub, alg: req.auth?.header.alg })
    })
    expect(app.listen).toBeTypeOf('function')
  })
})
