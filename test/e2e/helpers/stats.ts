/** Summary of a list of gaps in milliseconds. */
export interface GapSummary {
  count: number
  p50: number
  p95: number
  max: number
}

/** Nearest-rank percentile (`p` in 0..100) of `values`; 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]!
}

/** Median, 95th percentile and maximum of `gaps`, rounded to 0.1 ms. */
export function summarizeGaps(gaps: readonly number[]): GapSummary {
  const round = (v: number): number => Math.round(v * 10) / 10
  return {
    count: gaps.length,
    p50: round(percentile(gaps, 50)),
    p95: round(percentile(gaps, 95)),
    max: round(gaps.length ? Math.max(...gaps) : 0),
  }
}
