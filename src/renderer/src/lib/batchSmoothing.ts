/**
 * The trainer reports, every so often, the running mean of the loss and accuracy of the epoch so
 * far (it starts again at each epoch). Plotted as is, the curve drops at every epoch boundary and
 * flattens towards its end. This turns those reports back into what happened between two of them
 * and smooths that with an exponential moving average that carries over epoch boundaries.
 */

/** One batch report: where in the run (epoch, 0-based batch within it, global step) and the means. */
export interface BatchReport {
  step: number
  /** Absent in reports of older runs: the values are then taken as they are. */
  epoch?: number
  batch?: number
  loss: number
  accuracy: number
}

/** A smoothed point of the per-batch chart. */
export interface SmoothedPoint {
  step: number
  loss: number
  accuracy: number
}

/** Weight of one batch in the moving average: about the last 1 / 0.05 = 20 batches count. */
export const BATCH_EMA_ALPHA = 0.05

/**
 * Mean loss and accuracy of the batches between two reports of the same epoch, from their
 * running means: batches 0..b have a total of (b + 1) * mean. (The trainer weighs by samples; all
 * batches but an epoch's last have the same size, so this is exact until that one.)
 */
function sinceLast(previous: BatchReport | null, report: BatchReport) {
  const { epoch, batch } = report
  if (epoch === undefined || batch === undefined) {
    return { batches: 1, loss: report.loss, accuracy: report.accuracy }
  }
  if (previous?.epoch !== epoch || previous.batch === undefined || previous.batch >= batch) {
    return { batches: batch + 1, loss: report.loss, accuracy: report.accuracy }
  }
  const batches = batch - previous.batch
  const total = (mean: number, b: number) => (b + 1) * mean
  return {
    batches,
    loss: Math.max(0, (total(report.loss, batch) - total(previous.loss, previous.batch)) / batches),
    accuracy: Math.min(
      1,
      Math.max(
        0,
        (total(report.accuracy, batch) - total(previous.accuracy, previous.batch)) / batches,
      ),
    ),
  }
}

/** Smooths batch reports one at a time, in order; `reset()` starts over (a new run). */
export function createBatchSmoother(alpha = BATCH_EMA_ALPHA) {
  let previous: BatchReport | null = null
  let average: { loss: number; accuracy: number } | null = null
  return {
    add(report: BatchReport): SmoothedPoint {
      const recent = sinceLast(previous, report)
      previous = report
      if (!average) {
        average = { loss: recent.loss, accuracy: recent.accuracy }
      } else {
        // n batches at once weigh what n single steps of the average would.
        const weight = 1 - (1 - alpha) ** recent.batches
        average = {
          loss: average.loss + weight * (recent.loss - average.loss),
          accuracy: average.accuracy + weight * (recent.accuracy - average.accuracy),
        }
      }
      return { step: report.step, ...average }
    },
    reset(): void {
      previous = null
      average = null
    },
  }
}

/** Every report of a run, smoothed. */
export function smoothBatches(reports: readonly BatchReport[], alpha = BATCH_EMA_ALPHA) {
  const smoother = createBatchSmoother(alpha)
  return reports.map((report) => smoother.add(report))
}
