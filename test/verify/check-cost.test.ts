import { describe, expect, it } from 'vitest'
import { dear, observe, poolShareOf } from '../../src/verify/check-cost.js'

// Which checks may go to the pool is decided from what one check itself costs (`Scheme.cost`). Inside a loaded
// server an RSA check mostly takes 35–100 µs against 25 µs in a tight loop (cold CPU caches); a running mean of
// that made RSA look like ECDSA, and the Koa bench server handed 90% of its RSA checks to the pool.
describe('what a check costs, and who gets the pool', () => {
  it('the cost is the least a check took lately: slow readings in a loaded server leave RSA a cheap check', () => {
    const scheme = { hash: 'sha256', cost: 0.03 }
    for (let i = 0; i < 500; i++) observe(scheme, i % 10 === 0 ? 0.027 : 0.035 + (i % 7) * 0.01)
    expect(scheme.cost).toBeLessThan(0.05)
    // Cheap: the pool only with a core nobody uses, and then for at most 60% of the checks.
    expect(poolShareOf(scheme, 0.55, 0.9)).toBe(0)
    expect(poolShareOf(scheme, 0.95, 0.9)).toBe(0.6)
    expect(poolShareOf(scheme, 0.95, 0.4)).toBe(0.4)
  })

  it('a dearer check is learnt: readings that stay high raise the cost, and the check then goes to the pool', () => {
    const scheme = { hash: 'sha256', cost: 0.03 }
    let checks = 0
    while (scheme.cost < 0.1 && checks < 5_000) {
      observe(scheme, 0.12)
      checks++
    }
    expect(checks).toBeLessThan(2_000)
    expect(poolShareOf(scheme, 0.55, 0.9)).toBe(1)
    // A reading of zero (a check refused before any work) cannot pin the cost at zero for good.
    observe(scheme, 0)
    expect(scheme.cost).toBeGreaterThan(0)
    for (let i = 0; i < 5_000 && scheme.cost < 0.1; i++) observe(scheme, 0.12)
    expect(scheme.cost).toBeGreaterThanOrEqual(0.1)
    // ECDSA's cost starts above ten hand-offs: all of its overlapping checks go to the pool.
    expect(poolShareOf({ hash: 'sha256', cost: 0.08 }, 0.55, 0.7)).toBe(1)
  })
})

describe('dear checks', () => {
  it('ECDSA and EdDSA cost ten hand-offs or more, RSA less', () => {
    expect(dear({ hash: 'sha256', cost: 0.08 })).toBe(true)
    expect(dear({ hash: null, cost: 0.12 })).toBe(true)
    expect(dear({ hash: 'sha256', cost: 0.03 })).toBe(false)
  })
})
