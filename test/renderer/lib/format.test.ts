import { describe, expect, it } from 'vitest'

import {
  formatCount,
  formatDuration,
  formatPercent,
  formatQuantity,
  formatShortDate,
} from '@renderer/lib/format'

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

  it('writes counts with thousands separators, and their noun singular or plural', () => {
    expect(formatCount(1234567)).toBe('1,234,567')
    expect(formatQuantity(1, 'image')).toBe('1 image')
    expect(formatQuantity(0, 'image')).toBe('0 images')
    expect(formatQuantity(12000, 'image')).toBe('12,000 images')
    expect(formatQuantity(1, 'class', 'classes')).toBe('1 class')
    expect(formatQuantity(47, 'class', 'classes')).toBe('47 classes')
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
