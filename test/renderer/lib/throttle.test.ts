import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { throttle } from '@renderer/lib/throttle'

describe('throttle', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('runs the first call at once and merges the rest into one trailing run', () => {
    const fn = vi.fn()
    const t = throttle(fn, 250)
    t()
    expect(fn).toHaveBeenCalledTimes(1)
    for (let i = 0; i < 20; i++) t()
    expect(fn).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(249)
    expect(fn).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1)
    expect(fn).toHaveBeenCalledTimes(2)
  })

  it('flush runs a pending call now; cancel drops it', () => {
    const fn = vi.fn()
    const t = throttle(fn, 250)
    t()
    t()
    t.flush()
    expect(fn).toHaveBeenCalledTimes(2)
    t()
    t.cancel()
    vi.advanceTimersByTime(1000)
    expect(fn).toHaveBeenCalledTimes(2)
  })

  it('runs again immediately once the interval has passed', () => {
    const fn = vi.fn()
    const t = throttle(fn, 100)
    t()
    vi.advanceTimersByTime(150)
    t()
    expect(fn).toHaveBeenCalledTimes(2)
  })
})
