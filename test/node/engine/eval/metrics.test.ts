import { describe, expect, it } from 'vitest'

import { accuracy, classReport, confusionMatrix, macroF1 } from '@engine/eval/metrics'

// Hand-worked example, 3 classes, 10 samples:
//   actual    0 0 0 1 1 2 2 2 2 0
//   predicted 0 0 1 1 2 2 2 0 2 0
// confusion (rows actual, columns predicted): [3 1 0] [0 1 1] [1 0 3]; 7 of 10 correct.
// class 0: TP 3, predicted-as-0 column 4, support 4 -> precision 3/4, recall 3/4, F1 3/4
// class 1: TP 1, column 2, support 2 -> precision 1/2, recall 1/2, F1 1/2
// class 2: TP 3, column 4, support 4 -> precision 3/4, recall 3/4, F1 3/4
// macro F1 = (3/4 + 1/2 + 3/4) / 3 = 2/3
const actual = [0, 0, 0, 1, 1, 2, 2, 2, 2, 0]
const predicted = [0, 0, 1, 1, 2, 2, 2, 0, 2, 0]

describe('metrics', () => {
  it('builds the confusion matrix as [actual][predicted]', () => {
    expect(confusionMatrix(actual, predicted, 3)).toEqual([
      [3, 1, 0],
      [0, 1, 1],
      [1, 0, 3],
    ])
  })

  it('computes accuracy', () => {
    expect(accuracy(actual, predicted)).toBeCloseTo(0.7, 12)
    expect(accuracy(new Uint8Array([1, 2]), [1, 2])).toBe(1)
    expect(accuracy([], [])).toBe(0)
  })

  it('computes precision, recall, F1 and support per class, and macro F1', () => {
    const report = classReport(confusionMatrix(actual, predicted, 3), ['a', 'b', 'c'])
    expect(report).toEqual([
      { label: 'a', precision: 0.75, recall: 0.75, f1: 0.75, support: 4 },
      { label: 'b', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
      { label: 'c', precision: 0.75, recall: 0.75, f1: 0.75, support: 4 },
    ])
    expect(macroF1(report)).toBeCloseTo(2 / 3, 12)
  })

  it('handles precision != recall and gives 0 on zero division', () => {
    // actual 0 0 1, predicted 0 1 1 -> class 0: P 1/1, R 1/2, F1 2/3; class 1: P 1/2, R 1/1, F1 2/3.
    // Class 2 never occurs and is never predicted: everything 0.
    const report = classReport(confusionMatrix([0, 0, 1], [0, 1, 1], 3), ['x', 'y', 'z'])
    expect(report[0]).toMatchObject({ precision: 1, recall: 0.5, support: 2 })
    expect(report[0].f1).toBeCloseTo(2 / 3, 12)
    expect(report[1]).toMatchObject({ precision: 0.5, recall: 1, support: 1 })
    expect(report[1].f1).toBeCloseTo(2 / 3, 12)
    expect(report[2]).toEqual({ label: 'z', precision: 0, recall: 0, f1: 0, support: 0 })
    expect(macroF1(report)).toBeCloseTo(4 / 9, 12)
    expect(macroF1([])).toBe(0)
  })

  it('rejects mismatched lengths and out-of-range labels', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/2 actual vs 1 predicted/)
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/out of range at 1/)
  })
})
