// Issue 18 item 4: a check the token doctor did not run is reported as skipped, never as passed. The command has no
// revocation store and no request (so no DPoP proof): `guard.explain` says so, step by step, and the verdict names
// what was not checked. Also: a pasted "Bearer " or "DPoP " prefix is stripped with a note on stderr.
import { Readable } from 'node:stream'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import { createGuard, memoryRevocationStore } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

let issuer: TestIssuer
let base: string[]
let jkt: string

beforeAll(async () => {
  issuer = await createTestIssuer()
  base = ['--issuer', issuer.issuer, '--audience', issuer.audience as string]
  const { publicKey } = await generateKeyPair('ES256')
  jkt = await calculateJwkThumbprint(await exportJWK(publicKey))
})
afterAll(() => issuer?.close())

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { code: -1, stdout: '', stderr: '' }
  out.code = await main(argv, {
    stdout: { write: (text: string) => (out.stdout += text), isTTY: false },
    stderr: { write: (text: string) => (out.stderr += text) },
    stdin: Readable.from(['']),
    env: {},
  })
  return out
}

const stepLines = (stdout: string): string[] => stdout.split('\n').filter((l) => /^(PASS|FAIL|SKIP) /.test(l))

describe('jwtguard verify: skipped, never passed', () => {
  it('revocation: no store in the command, so SKIP with the reason, and the verdict says it was not checked', async () => {
    const { code, stdout } = await run(['verify', await issuer.sign(), ...base])
    expect(code).toBe(0)
    expect(stepLines(stdout).at(-1)).toBe('SKIP revocation  skipped: no isRevoked or revocation store is configured')
    expect(stdout).not.toMatch(/^PASS revocation/m)
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('token accepted by every check that ran; not checked: revocation')
  })

  it('a DPoP-bound token: every other check runs, the binding is SKIP (no proof), never PASS', async () => {
    const { code, stdout } = await run(['verify', await issuer.sign({ cnf: { jkt } }), ...base])
    expect(code).toBe(0)
    const steps = stepLines(stdout)
    expect(steps.slice(-2)).toEqual([
      `SKIP binding     skipped: bound to a DPoP key (cnf.jkt "${jkt}") and no DPoP proof was given`,
      'SKIP revocation  skipped: no isRevoked or revocation store is configured',
    ])
    expect(steps.slice(0, -2).every((l) => l.startsWith('PASS '))).toBe(true)
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('token accepted by every check that ran; not checked: binding, revocation')
    const json = JSON.parse((await run(['verify', await issuer.sign({ cnf: { jkt } }), ...base, '--json'])).stdout)
    expect(json.steps.find((s: { check: string }) => s.check === 'binding')).toMatchObject({ ok: null })
  })

  it('a bound token that fails earlier: binding "not checked"; an unbound token has no binding step', async () => {
    const expired = await run(['verify', await issuer.sign({ cnf: { jkt } }, { expiresIn: -60 }), ...base])
    expect(expired.code).toBe(1)
    expect(stepLines(expired.stdout)).toContain('SKIP binding     not checked')
    // An unbound token's binding check runs (nothing to bind): it passes, as in the guard's own explanation.
    expect(stepLines((await run(['verify', await issuer.sign(), ...base])).stdout)).toContain('PASS binding     ok')
  })

  it('JWT_DPOP=required with --env: an unbound token is refused at binding, as the API refuses it', async () => {
    const out = { code: -1, stdout: '' }
    const env = { JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: issuer.audience as string, JWT_DPOP: 'required' }
    const io = { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: () => true }, stdin: Readable.from(['']), env }
    out.code = await main(['verify', await issuer.sign({ scope: 'a' }), '--env'], io)
    expect(out.code).toBe(1)
    expect(stepLines(out.stdout).slice(-2)).toEqual([
      'FAIL binding     DPoP is required (dpop.required) and the token is not bound to a DPoP key (no cnf.jkt)',
      'SKIP revocation  not checked',
    ])
    expect(out.stdout).not.toContain('scopes:')
    expect(out.stdout.trimEnd().split('\n').at(-1)).toBe('token refused: ERR_DPOP_BINDING_INVALID')
    const bound = await main(['verify', await issuer.sign({ cnf: { jkt } }), '--env'], { ...io, stdout: { write: () => true } })
    expect(bound).toBe(0)
  })

  it('a certificate-bound token (cnf x5t#S256) is refused at binding: this guard has no mtls option to check it', async () => {
    const token = await issuer.sign({ cnf: { 'x5t#S256': jkt } })
    const { code, stdout } = await run(['verify', token, ...base])
    expect(code).toBe(1)
    expect(stdout).toMatch(/^FAIL binding /m)
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('token refused: ERR_JWT_CNF_UNSUPPORTED')
  })
})

describe('guard.explain: a step not run is not passed', () => {
  it('with a revocation store the step runs: PASS, or FAIL when revoked', async () => {
    const store = memoryRevocationStore()
    const guard = createGuard({ ...issuer.guardOptions(), revocation: store })
    const token = await issuer.sign({ jti: 'id-1' })
    expect((await guard.explain(token)).steps.at(-1)).toEqual({ check: 'revocation', ok: true, detail: 'ok' })
    await store.revoke('id-1', Math.floor(Date.now() / 1000) + 3600)
    const revoked = await guard.explain(token)
    expect(revoked).toMatchObject({ ok: false, code: 'ERR_JWT_REVOKED' })
    expect(revoked.steps.at(-1)).toMatchObject({ check: 'revocation', ok: false })
  })

  it('a bound token refused at revocation, its binding left to the caller: binding SKIP, never PASS', async () => {
    const store = memoryRevocationStore()
    const guard = createGuard({ ...issuer.guardOptions(), revocation: store })
    const token = await issuer.sign({ jti: 'id-2', cnf: { jkt } })
    await store.revoke('id-2', Math.floor(Date.now() / 1000) + 3600)
    const explained = await guard.explain(token, { bindingCheckedElsewhere: true })
    expect(explained.code).toBe('ERR_JWT_REVOKED')
    // The binding was left to the caller: it is not reported passed (the explanation has no binding step).
    expect(explained.steps.find((s) => s.check === 'binding')?.ok).not.toBe(true)
    expect(explained.steps.at(-1)).toMatchObject({ check: 'revocation', ok: false })
  })

  it('without one the step is not run, and says why', async () => {
    const explained = await createGuard(issuer.guardOptions()).explain(await issuer.sign({ scope: 'a', roles: ['r'] }))
    expect(explained).toMatchObject({ ok: true, scopes: ['a'], roles: ['r'] })
    // The guard reports no revocation step at all (it did not run); the CLI prints it as SKIP.
    expect(explained.steps.some((s) => s.check === 'revocation')).toBe(false)
  })

  it('a bound token without bindingCheckedElsewhere fails at the binding step, as verify refuses it', async () => {
    const explained = await createGuard(issuer.guardOptions()).explain(await issuer.sign({ cnf: { jkt } }))
    expect(explained).toMatchObject({ ok: false, code: 'ERR_DPOP_BINDING_INVALID' })
    expect(explained.steps.find((s) => s.ok === false)?.check).toBe('binding')
    expect(explained.scopes).toBeUndefined()
  })
})

describe('a pasted scheme prefix', () => {
  it('"Bearer " is stripped with a note on stderr, and the token verified', async () => {
    const { code, stderr } = await run(['verify', `Bearer ${await issuer.sign()}`, ...base])
    expect(code).toBe(0)
    expect(stderr).toBe('jwtguard: note: removed the "Bearer " prefix; give the token alone\n')
  })

  it('"Authorization: DPoP " too, with a word that no proof is checked here', async () => {
    const { code, stderr } = await run(['verify', `Authorization: DPoP ${await issuer.sign({ cnf: { jkt } })}`, ...base])
    expect(code).toBe(0)
    expect(stderr).toBe('jwtguard: note: removed the "DPoP " prefix (no DPoP proof is checked here); give the token alone\n')
  })

  it('inspect strips it the same way', async () => {
    const { code, stdout, stderr } = await run(['inspect', `bearer  ${await issuer.sign({ sub: 'pasted' })}`])
    expect(code).toBe(0)
    expect(stderr).toBe('jwtguard: note: removed the "bearer " prefix; give the token alone\n')
    expect(stdout).toContain('"pasted"')
  })
})
