import type { EvaluationReport } from '@shared/schemas'

/** The most sample indices one `evaluation.samples` call accepts. */
export const MAX_SAMPLE_INDICES = 500

/** Number of off-diagonal (wrong) predictions in the confusion matrix. */
export function errorCount(report: EvaluationReport): number {
  let wrong = 0
  report.confusion.forEach((row, a) => row.forEach((n, p) => (wrong += a === p ? 0 : n)))
  return wrong
}

/** True when `misclassified` lists every wrong prediction (not a truncated sample of them). */
export function misclassifiedIsComplete(report: EvaluationReport): boolean {
  return report.misclassified.length >= errorCount(report)
}

/**
 * The actual label of every evaluated sample, when it can be known: from `actuals` if the report has
 * them, else rebuilt from a complete `misclassified` list (every other sample was predicted right,
 * so its actual label is its prediction). Null when neither is available.
 */
export function actualLabels(report: EvaluationReport): number[] | null {
  const withActuals = report as EvaluationReport & { actuals?: unknown }
  if (
    Array.isArray(withActuals.actuals) &&
    withActuals.actuals.length === report.predictions.length
  ) {
    return withActuals.actuals as number[]
  }
  if (!misclassifiedIsComplete(report)) return null
  const actuals = report.predictions.slice()
  for (const m of report.misclassified) if (m.index < actuals.length) actuals[m.index] = m.actual
  return actuals
}

export interface CellIndices {
  /** Sample indices in the cell (at most `limit`). */
  indices: number[]
  /** False when the indices are a best guess (the report lacks actual labels and misclassified is truncated). */
  exact: boolean
}

/** Indices of the samples in confusion cell (actual, predicted). */
export function cellIndices(
  report: EvaluationReport,
  actual: number,
  predicted: number,
  limit = MAX_SAMPLE_INDICES,
): CellIndices {
  const actuals = actualLabels(report)
  const indices: number[] = []
  if (actuals) {
    for (let i = 0; i < actuals.length && indices.length < limit; i++) {
      if (actuals[i] === actual && report.predictions[i] === predicted) indices.push(i)
    }
    return { indices, exact: true }
  }
  if (actual !== predicted) {
    for (const m of report.misclassified) {
      if (indices.length >= limit) break
      if (m.actual === actual && m.predicted === predicted) indices.push(m.index)
    }
    return { indices, exact: false }
  }
  // Diagonal without actual labels: predicted `actual` and not known to be wrong. Some may still be
  // wrong predictions missing from a truncated list; the caller filters the images by their label.
  const wrong = new Set(report.misclassified.map((m) => m.index))
  for (let i = 0; i < report.predictions.length && indices.length < limit; i++) {
    if (report.predictions[i] === predicted && !wrong.has(i)) indices.push(i)
  }
  return { indices, exact: false }
}
