import { describe, expect, it } from 'vitest'

import { formatDuration, formatPercent, formatShortDate } from '@renderer/lib/format'

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

  it('leaves the year out of short dates of the current year', () => {
    const now = new Date(2026, 10, 21, 15, 0)
    const thisYear = formatShortDate(new Date(2026, 10, 21, 13, 48).toISOString(), now)
    expect(thisYear).not.toContain('2026')
    expect(thisYear).toMatch(/21/)
    expect(formatShortDate(new Date(2025, 0, 2, 9, 5).toISOString(), now)).toContain('2025')
    expect(formatShortDate(undefined)).toBe('—')
  })
})
