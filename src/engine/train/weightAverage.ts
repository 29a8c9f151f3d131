import * as tf from '@tensorflow/tfjs'

/**
 * Steps over which the averaging warms up: the decay at step t is min(decay, (1 + t) / (10 + t)),
 * as in TensorFlow's ExponentialMovingAverage with `num_updates`, so that early on the average
 * follows the weights (it is over the last tenth of the steps, roughly) instead of carrying the
 * random initialisation for thousands of steps.
 */
const WARMUP = 10

/** The decay applied at 1-based step `step` for a configured `decay`. */
export function averagingDecayAt(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (WARMUP + step))
}

/**
 * An exponential moving average of all of a model's weights (the batch-norm moving statistics
 * too, so the average is a consistent network), updated after each training step. The trainer
 * validates, checkpoints and keeps the average. Measured on the accurate preset on full MNIST
 * (native, the same steps with and without, decay 0.999): the average's validation accuracy was
 * ahead after 26 of 30 epochs, by up to 0.35 points in the first half (what a cancelled or
 * early-stopped run keeps), and its test loss lower at the end (0.0120 against 0.0123); at the end
 * of the cosine schedule the test accuracy was the same within two images (99.66% against 99.68%),
 * so no preset turns it on. The caller disposes it.
 */
export class WeightAverage {
  private average: tf.Tensor[]
  private steps = 0
  private disposed = false

  constructor(
    private readonly model: tf.LayersModel,
    private readonly decay: number,
  ) {
    this.average = model.getWeights().map((w) => tf.clone(w))
  }

  /** Folds the model's current weights into the average (after a training step). */
  update(): void {
    if (this.disposed) throw new Error('the weight average has been disposed')
    this.steps += 1
    const keep = averagingDecayAt(this.decay, this.steps)
    const current = this.model.getWeights()
    const next = tf.tidy(() => this.average.map((a, i) => a.add(current[i].sub(a).mul(1 - keep))))
    tf.dispose(this.average)
    this.average = next
  }

  /**
   * Runs `use` with the average in the model, then puts the training weights back (also when it
   * throws). What `use` copies out of the model (a best-epoch snapshot, a checkpoint) is the
   * average.
   */
  async withAverage<T>(use: () => Promise<T> | T): Promise<T> {
    const training = this.model.getWeights().map((w) => tf.clone(w))
    try {
      this.model.setWeights(this.average)
      return await use()
    } finally {
      this.model.setWeights(training)
      tf.dispose(training)
    }
  }

  /** Puts the average into the model for good (the end of a run that keeps its last weights). */
  applyTo(): void {
    this.model.setWeights(this.average)
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    tf.dispose(this.average)
  }
}
