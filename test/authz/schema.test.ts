// claimsSchema: any Standard Schema v1 validator checks the verified claims; its output becomes
// `payload`; a failure is 401 ERR_JWT_SCHEMA_INVALID with the failing path on the error only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createGuard, type GuardOptions, type StandardSchemaV1 } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type Running } from '../conformance/apps.js'

let issuer: TestIssuer

beforeAll(async () => {
  issuer = await createTestIssuer()
})

afterAll(async () => {
  await issuer?.close()
})

const INVALID = 'Bearer realm="api", error="invalid_token", error_description="Token claims invalid"'

function guardFor<C>(claimsSchema: StandardSchemaV1<unknown, C>) {
  return createGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri, claimsSchema })
}

const schema = z.object({
  sub: z.string(),
  department_code: z.string().regex(/^[A-Z]{3}$/),
  org: z.object({ id: z.uuid() }),
  perms: z.string().transform((s) => s.split(',')),
})

const ORG = { id: '0b7f3c52-3f4e-4f39-9d5a-0f0e6a1b2c3d' }

describe('claimsSchema with zod 4', () => {
  it("valid claims pass and payload is the schema's output", async () => {
    const auth = await guardFor(schema).verify(
      await issuer.sign({ department_code: 'OPS', org: ORG, perms: 'read,write', scope: 'orders:read' }),
    )
    // zod strips the claims it does not declare (iss, exp …) and applies the transform.
    expect(auth.payload).toEqual({ sub: 'user-123', department_code: 'OPS', org: ORG, perms: ['read', 'write'] })
    // Grants are read from the verified claims, not from the schema's output.
    expect(auth.scopes).toEqual(['orders:read'])
  })

  it.each([
    ['a top-level claim', { department_code: 'ops', org: ORG, perms: 'read' }, 'department_code'],
    ['a nested claim', { department_code: 'OPS', org: { id: 'not-a-uuid' }, perms: 'read' }, 'org.id'],
    ['a missing claim', { department_code: 'OPS', org: ORG }, 'perms'],
  ])('%s that fails: 401 ERR_JWT_SCHEMA_INVALID, the path on err.context only', async (_title, claims, path) => {
    const err = await guardFor(schema)
      .verify(await issuer.sign(claims))
      .catch((e: unknown) => e)
    expect(err).toMatchObject({
      status: 401,
      code: 'ERR_JWT_SCHEMA_INVALID',
      message: 'Token claims invalid',
      headers: { 'WWW-Authenticate': INVALID },
      context: { reason: 'schema', path },
    })
    expect((err as Error).message).not.toContain(path.split('.')[0])
  })

  it('an async schema works, both ways', async () => {
    const known = new Set(['OPS'])
    const asyncSchema = z.object({ department_code: z.string().refine(async (code) => known.has(code)) })
    const guard = guardFor(asyncSchema)
    expect((await guard.verify(await issuer.sign({ department_code: 'OPS' }))).payload).toEqual({ department_code: 'OPS' })
    await expect(guard.verify(await issuer.sign({ department_code: 'HR' }))).rejects.toMatchObject({
      status: 401,
      code: 'ERR_JWT_SCHEMA_INVALID',
      context: { path: 'department_code' },
    })
  })
})

describe('claimsSchema: any Standard Schema, no library', () => {
  /** A hand-written Standard Schema v1: `tenant` must be a string; the output upper-cases it. */
  const tenantSchema: StandardSchemaV1<unknown, { tenant: string }> = {
    '~standard': {
      version: 1,
      vendor: 'hand-written',
      validate: (value) => {
        const tenant = (value as Record<string, unknown>).tenant
        if (typeof tenant === 'string') return { value: { tenant: tenant.toUpperCase() } }
        return { issues: [{ message: 'tenant must be a string', path: [{ key: 'tenant' }] }] }
      },
    },
  }

  it('validates and transforms', async () => {
    const auth = await guardFor(tenantSchema).verify(await issuer.sign({ tenant: 'acme' }))
    expect(auth.payload).toEqual({ tenant: 'ACME' })
  })

  it('a failure names the path given as a PathSegment object', async () => {
    await expect(guardFor(tenantSchema).verify(await issuer.sign({ tenant: 42 }))).rejects.toMatchObject({
      status: 401,
      code: 'ERR_JWT_SCHEMA_INVALID',
      context: { path: 'tenant', issues: [{ path: 'tenant', message: 'tenant must be a string' }] },
    })
  })

  it('a validate that throws is a server fault: 500, the cause kept off the message', async () => {
    const bug = new Error('secret-internal-detail')
    const throwing: StandardSchemaV1<unknown, unknown> = {
      '~standard': {
        version: 1,
        vendor: 'broken',
        validate: () => {
          throw bug
        },
      },
    }
    const err = await guardFor(throwing)
      .verify(await issuer.sign({}))
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 500, code: 'ERR_CALLBACK_FAILED', context: { callback: 'claimsSchema' }, cause: bug })
    expect((err as Error).message).not.toContain('secret-internal-detail')
  })

  it('the schema only ever sees verified claims', async () => {
    let calls = 0
    const counting: StandardSchemaV1<unknown, unknown> = {
      '~standard': {
        version: 1,
        vendor: 'counting',
        validate: (value) => {
          calls++
          return { value }
        },
      },
    }
    const guard = guardFor(counting)
    const [header, payload] = (await issuer.sign({ tenant: 'acme' })).split('.')
    const forged = `${header}.${payload}.${Buffer.alloc(256).toString('base64url')}`
    await expect(guard.verify(forged)).rejects.toMatchObject({ code: 'ERR_JWT_SIGNATURE_INVALID' })
    await expect(guard.verify(await issuer.sign({}, { expiresIn: -3600 }))).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' })
    expect(calls).toBe(0)
    await guard.verify(await issuer.sign({}))
    expect(calls).toBe(1)
  })
})

describe.each(FRAMEWORKS.map((f) => [f.name, f] as const))('%s: a schema failure over HTTP', (_name, framework) => {
  let app: Running
  beforeAll(async () => {
    const guard: GuardOptions = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri, claimsSchema: schema }
    app = await framework.start({ guard, routes: [{ path: '/protected', reply: (auth) => auth?.payload }] })
  })
  afterAll(async () => {
    await app?.close()
  })

  it('401 invalid_token; the failing claim is not in the response', async () => {
    const token = await issuer.sign({ department_code: 'ops', org: ORG, perms: 'read' })
    const res = await fetch(`${app.url}/protected`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(INVALID)
    const body = await res.text()
    expect(body).toContain('Token claims invalid')
    expect(body).not.toContain('department_code')
  })

  it("200 with the schema's output as payload", async () => {
    const token = await issuer.sign({ department_code: 'OPS', org: ORG, perms: 'read,write' })
    const res = await fetch(`${app.url}/protected`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ sub: 'user-123', department_code: 'OPS', org: ORG, perms: ['read', 'write'] })
  })
})
