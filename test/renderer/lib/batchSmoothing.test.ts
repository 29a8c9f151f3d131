import { describe, expect, it } from 'vitest'

import { createBatchSmoother, smoothBatches, type BatchReport } from '@renderer/lib/batchSmoothing'

/** What the trainer reports for `losses` (one per batch), every `every` batches of each epoch. */
function reports(epochs: number[][], every: number): BatchReport[] {
  const out: BatchReport[] = []
  let step = 0
  epochs.forEach((losses, epoch) => {
    let sum = 0
    losses.forEach((loss, batch) => {
      sum += loss
      step++
      if ((batch + 1) % every === 0 || batch === losses.length - 1) {
        out.push({ step, epoch, batch, loss: sum / (batch + 1), accuracy: 1 - sum / (batch + 1) })
      }
    })
  })
  return out
}

describe('batch smoothing', () => {
  it('does not drop at an epoch boundary when the loss does not change there', () => {
    // The loss falls steadily across two epochs; the running means restart at epoch 2.
    const losses = Array.from({ length: 200 }, (_, i) => 2 - i * 0.005)
    const reported = reports([losses.slice(0, 100), losses.slice(100)], 5)
    const first = reported.find((r) => r.epoch === 1)!
    const lastOfEpoch0 = reported.filter((r) => r.epoch === 0).at(-1)!
    // The raw running mean jumps down at the boundary (the bug this fixes)…
    expect(lastOfEpoch0.loss - first.loss).toBeGreaterThan(0.2)
    const smoothed = smoothBatches(reported)
    const at = (step: number) => smoothed.find((p) => p.step === step)!.loss
    // …the smoothed curve moves by no more than the loss itself did in those batches.
    expect(Math.abs(at(lastOfEpoch0.step) - at(first.step))).toBeLessThan(0.05)
    // And it tracks the loss of the recent batches, not the mean of the whole epoch.
    const end = smoothed.at(-1)!
    expect(end.loss).toBeLessThan(1.2)
    expect(end.loss).toBeGreaterThan(losses.at(-1)!)
  })

  it('recovers the mean of the batches between two reports', () => {
    const smoother = createBatchSmoother(1) // no averaging: each point is the recent mean
    expect(smoother.add({ step: 2, epoch: 0, batch: 1, loss: 3, accuracy: 0.2 })).toMatchObject({
      loss: 3,
      accuracy: 0.2,
    })
    // Batches 0..3 average 2, batches 0..1 averaged 3: batches 2..3 averaged 1.
    const next = smoother.add({ step: 4, epoch: 0, batch: 3, loss: 2, accuracy: 0.4 })
    expect(next.loss).toBeCloseTo(1)
    expect(next.accuracy).toBeCloseTo(0.6)
    // A new epoch starts its running mean again: its first report is its own mean.
    expect(smoother.add({ step: 6, epoch: 1, batch: 1, loss: 0.5, accuracy: 0.9 }).loss).toBe(0.5)
  })

  it('takes reports without an epoch and batch (older runs) as they are', () => {
    const smoothed = smoothBatches([
      { step: 1, loss: 2, accuracy: 0.1 },
      { step: 2, loss: 1, accuracy: 0.5 },
    ])
    expect(smoothed[0]).toEqual({ step: 1, loss: 2, accuracy: 0.1 })
    expect(smoothed[1]!.loss).toBeCloseTo(2 - 0.05)
  })
})
