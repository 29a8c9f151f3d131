import type { LrSchedule } from '@shared/schemas/training'

/** One-cycle: fraction of the steps spent warming up from `lr / ONECYCLE_DIV` to `lr`. */
export const ONECYCLE_WARMUP = 0.25
/** One-cycle: the warm-up starts at `lr / ONECYCLE_DIV`. */
export const ONECYCLE_DIV = 25
/** One-cycle: the last step reaches `lr / ONECYCLE_FINAL_DIV`. */
export const ONECYCLE_FINAL_DIV = 1e4

/**
 * Learning rate at `step` (0-based) of `totalSteps`, for a schedule with peak/base rate `base`:
 * - constant: `base` throughout;
 * - cosine: half a cosine from `base` down towards 0 at the end;
 * - step: `base`, then x0.1 from half-way and x0.01 from three quarters;
 * - onecycle: linear warm-up from `base/25` to `base` over the first quarter, then a cosine down
 *   to `base/1e4` (PyTorch OneCycleLR-like).
 */
export function learningRateAt(
  schedule: LrSchedule,
  base: number,
  step: number,
  totalSteps: number,
): number {
  const progress = totalSteps <= 1 ? 0 : Math.min(1, Math.max(0, step / (totalSteps - 1)))
  switch (schedule) {
    case 'constant':
      return base
    case 'cosine':
      return base * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, step / Math.max(1, totalSteps))))
    case 'step':
      return progress < 0.5 ? base : progress < 0.75 ? base * 0.1 : base * 0.01
    case 'onecycle': {
      const start = base / ONECYCLE_DIV
      const end = base / ONECYCLE_FINAL_DIV
      if (progress < ONECYCLE_WARMUP) return start + (base - start) * (progress / ONECYCLE_WARMUP)
      const down = (progress - ONECYCLE_WARMUP) / (1 - ONECYCLE_WARMUP)
      return end + (base - end) * 0.5 * (1 + Math.cos(Math.PI * down))
    }
  }
}
