import { describe, expect, it } from 'vitest'

import { actualLabels, cellIndices } from '@renderer/lib/confusion'
import { makeReport } from '../helpers/fixtures'

describe('confusion cells', () => {
  it('rebuilds actual labels from a complete misclassified list', () => {
    expect(actualLabels(makeReport())).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
  })

  it('finds the samples of diagonal and off-diagonal cells', () => {
    const report = makeReport()
    expect(cellIndices(report, 0, 0)).toEqual({ indices: [0, 1], exact: true })
    expect(cellIndices(report, 2, 0)).toEqual({ indices: [9], exact: true })
    expect(cellIndices(report, 2, 2)).toEqual({ indices: [6, 7, 8], exact: true })
  })

  it('prefers an actuals array when the report has one', () => {
    const report = { ...makeReport({ misclassified: [] }), actuals: [0, 0, 0, 1, 1, 1, 2, 2, 2, 2] }
    expect(cellIndices(report, 0, 1)).toEqual({ indices: [2], exact: true })
  })

  it('falls back to the misclassified list when it is truncated', () => {
    const report = makeReport()
    report.misclassified = report.misclassified.slice(0, 1)
    expect(actualLabels(report)).toBeNull()
    expect(cellIndices(report, 0, 1)).toEqual({ indices: [2], exact: false })
    // Diagonal guesses include samples that may be wrong; the store filters them by label.
    expect(cellIndices(report, 0, 0).exact).toBe(false)
  })
})
