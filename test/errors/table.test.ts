// Issue 15 item 4: one table of error codes. Everything that says what a code means reads ERROR_TABLE.
import { describe, expect, it } from 'vitest'
import { ERROR_TABLE, EXPLAIN_CHECKS } from '../../src/error-table.js'
import { ERROR_CODES, GuardError, type GuardErrorCode } from '../../src/errors.js'

const codes = Object.keys(ERROR_TABLE) as GuardErrorCode[]

describe('ERROR_TABLE', () => {
  it('ERROR_CODES is its code → status view, nothing more or less', () => {
    expect(ERROR_CODES).toEqual(Object.fromEntries(codes.map((c) => [c, ERROR_TABLE[c].status])))
  })

  it.each(codes)('`%s`: a GuardError carries the status and challenge of its row; its step is a pipeline check', (code) => {
    const info = ERROR_TABLE[code]
    const err = new GuardError(code, 'x')
    expect(err.status).toBe(info.status)
    expect(err.challenge).toBe(info.challenge)
    expect(EXPLAIN_CHECKS).toContain(info.step)
    expect(info.description.length).toBeGreaterThan(0)
  })

  it('a callback that chose its own status gets the challenge of that status', () => {
    expect(new GuardError('ERR_CALLBACK_FAILED', 'x', {}, { status: 403 }).challenge).toBe('insufficient_scope')
    expect(new GuardError('ERR_CALLBACK_FAILED', 'x', {}, { status: 502 }).challenge).toBeUndefined()
  })

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(ERROR_TABLE)).toBe(true)
    expect(Object.isFrozen(ERROR_CODES)).toBe(true)
  })
})
