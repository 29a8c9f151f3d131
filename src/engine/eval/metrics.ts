import type { ClassReport } from '@shared/schemas/evaluation'

/** Label arrays accepted by the metrics: plain arrays or typed arrays of class indices. */
export type LabelArray = ArrayLike<number>

/** `confusion[actual][predicted]` counts over `k` classes. Throws when the arrays differ in length. */
export function confusionMatrix(actual: LabelArray, predicted: LabelArray, k: number): number[][] {
  if (actual.length !== predicted.length) {
    throw new RangeError(
      `confusionMatrix: ${actual.length} actual vs ${predicted.length} predicted labels`,
    )
  }
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]
    const p = predicted[i]
    if (a < 0 || a >= k || p < 0 || p >= k) {
      throw new RangeError(
        `confusionMatrix: label out of range at ${i} (actual ${a}, predicted ${p}, k ${k})`,
      )
    }
    matrix[a][p] += 1
  }
  return matrix
}

/** `a / b`, or 0 when `b` is 0 (scikit-learn's zero_division=0). */
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b
}

/** Precision, recall, F1 and support of every class from a confusion matrix (zero division gives 0). */
export function classReport(confusion: number[][], labels: string[]): ClassReport[] {
  const k = confusion.length
  return confusion.map((row, c) => {
    const truePositives = row[c]
    const support = row.reduce((a, b) => a + b, 0)
    let predictedAs = 0
    for (let r = 0; r < k; r++) predictedAs += confusion[r][c]
    const precision = ratio(truePositives, predictedAs)
    const recall = ratio(truePositives, support)
    const f1 = ratio(2 * precision * recall, precision + recall)
    return { label: labels[c] ?? String(c), precision, recall, f1, support }
  })
}

/** Unweighted mean of the per-class F1 scores (0 for no classes). */
export function macroF1(report: ClassReport[]): number {
  return ratio(
    report.reduce((sum, c) => sum + c.f1, 0),
    report.length,
  )
}

/** Fraction of positions where `actual` and `predicted` agree (0 for empty arrays). */
export function accuracy(actual: LabelArray, predicted: LabelArray): number {
  if (actual.length !== predicted.length) {
    throw new RangeError(
      `accuracy: ${actual.length} actual vs ${predicted.length} predicted labels`,
    )
  }
  let correct = 0
  for (let i = 0; i < actual.length; i++) if (actual[i] === predicted[i]) correct++
  return ratio(correct, actual.length)
}
