import { describe, expect, it } from 'vitest'

import { formatDuration, formatPercent } from '@renderer/lib/format'

describe('format', () => {
  it('formats durations like a person would', () => {
    expect(formatDuration(134)).toBe('2m 14s')
    expect(formatDuration(42)).toBe('42s')
    expect(formatDuration(3900)).toBe('1h 05m')
    expect(formatDuration(null)).toBe('—')
  })

  it('formats fractions as percentages', () => {
    expect(formatPercent(0.9823)).toBe('98.2%')
    expect(formatPercent(undefined)).toBe('—')
  })
})
