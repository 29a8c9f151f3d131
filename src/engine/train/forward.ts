import * as tf from '@tensorflow/tfjs'

/** Sums of one batch: mean cross-entropy loss and the number of correct top-1 predictions. */
export interface BatchStats {
  loss: number
  correct: number
}

/** Config of a Dense layer as far as this module reads it. */
interface DenseConfig {
  activation?: string
}

/** A batch-norm moving-statistics update computed in the forward pass, applied after the step. */
export interface MovingStatsUpdate {
  movingMean: tf.Variable
  movingVariance: tf.Variable
  mean: tf.Tensor
  variance: tf.Tensor
  momentum: number
}

/** The weight of `layer` whose name ends in `/suffix`, as its backing variable. */
function layerVariable(layer: tf.layers.Layer, suffix: string): tf.Variable {
  const weight = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`))
  if (!weight) throw new Error(`layer ${layer.name} has no ${suffix} weight`)
  // LayerVariable.read() returns the backing tf.Variable typed as a plain Tensor.
  return weight.read() as tf.Variable
}

/**
 * Batch normalisation in training mode, written with broadcasting ops. Same maths as tfjs-layers
 * (batch mean and biased variance, epsilon inside the square root), but its gradient reduces with
 * Sum instead of tfjs' FusedBatchNorm gradient, whose Tile calls dominate a step on wasm. The
 * moving-statistics update is returned in `updates` and applied by the caller outside the tape.
 */
function batchNormTraining(
  layer: tf.layers.Layer,
  x: tf.Tensor,
  updates: MovingStatsUpdate[],
): tf.Tensor {
  const config = layer.getConfig() as { epsilon: number; momentum: number }
  const axes = x.shape.map((_, i) => i).slice(0, -1)
  const { mean, variance } = tf.moments(x, axes)
  const scale = tf.mul(tf.rsqrt(tf.add(variance, config.epsilon)), layerVariable(layer, 'gamma'))
  const shift = tf.sub(layerVariable(layer, 'beta'), tf.mul(mean, scale))
  updates.push({
    movingMean: layerVariable(layer, 'moving_mean'),
    movingVariance: layerVariable(layer, 'moving_variance'),
    mean: tf.keep(mean),
    variance: tf.keep(variance),
    momentum: config.momentum,
  })
  return tf.add(tf.mul(x, scale), shift)
}

/** Moves each batch-norm moving average towards its batch statistics and frees the latter. */
export function applyMovingStats(updates: MovingStatsUpdate[]): void {
  tf.tidy(() => {
    for (const u of updates) {
      u.movingMean.assign(tf.add(tf.mul(u.movingMean, u.momentum), tf.mul(u.mean, 1 - u.momentum)))
      u.movingVariance.assign(
        tf.add(tf.mul(u.movingVariance, u.momentum), tf.mul(u.variance, 1 - u.momentum)),
      )
    }
  })
  for (const u of updates) tf.dispose([u.mean, u.variance])
  updates.length = 0
}

/**
 * Runs a sequential softmax classifier up to its logits (the output Dense layer without its softmax),
 * so the loss can use a numerically stable log-softmax. In training mode, dropout layers use a fresh
 * seed from `nextSeed` per call, which keeps runs reproducible (a seeded tfjs Dropout layer would
 * draw the same mask on every batch). When `statsUpdates` is given, batch-norm layers in training
 * mode run through `batchNormTraining` and leave their moving-statistics updates there.
 * Convolutions and max pooling take tfjs' own path: on wasm their gradient kernels are InkLab's
 * (engine/backend/wasmKernels.ts).
 */
export function forwardLogits(
  model: tf.LayersModel,
  x: tf.Tensor,
  training: boolean,
  nextSeed?: () => number,
  statsUpdates?: MovingStatsUpdate[],
): tf.Tensor2D {
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer')
  const output = layers[layers.length - 1]
  const outputConfig = output?.getConfig() as DenseConfig | undefined
  if (output?.getClassName() !== 'Dense' || outputConfig?.activation !== 'softmax') {
    throw new Error('the model must end in a Dense softmax layer')
  }
  let h = x
  for (const layer of layers.slice(0, -1)) {
    if (layer.getClassName() === 'Dropout') {
      if (training) {
        const rate = (layer.getConfig() as { rate: number }).rate
        h = rate > 0 ? tf.dropout(h, rate, undefined, nextSeed?.()) : h
      }
      continue
    }
    if (training && statsUpdates && layer.getClassName() === 'BatchNormalization') {
      h = batchNormTraining(layer, h, statsUpdates)
      continue
    }
    h = layer.apply(h, { training }) as tf.Tensor
  }
  const [kernel, bias] = output.trainableWeights.map((w) => w.read())
  const logits = tf.matMul(h as tf.Tensor2D, kernel as tf.Tensor2D)
  return (bias ? tf.add(logits, bias) : logits) as tf.Tensor2D
}

/** Mean sparse categorical cross-entropy from logits, via log-softmax (stable for large logits). */
export function sparseCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[1]
    const logProbs = tf.logSoftmax(logits)
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, numClasses), logProbs), 1))) as tf.Scalar
  })
}

/** Number of rows whose arg-max equals the label, as a float scalar. */
export function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')))
}

/** The trainable variables of a model, in a stable order (the optimizer keys its slots on it). */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  // LayerVariable.read() returns the backing tf.Variable typed as a plain Tensor.
  return model.trainableWeights.map((w) => w.read() as tf.Variable)
}

/**
 * One optimisation step on a batch: forward in training mode, stable cross-entropy, gradients and
 * update of `variables`. Returns the batch loss and correct count (one read-back each).
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  xs: tf.Tensor4D,
  ys: tf.Tensor1D,
  nextSeed: () => number,
): BatchStats {
  const kept: { correct?: tf.Scalar } = {}
  const statsUpdates: MovingStatsUpdate[] = []
  let cost: tf.Scalar | null = null
  try {
    cost = optimizer.minimize(
      () => {
        const logits = forwardLogits(model, xs, true, nextSeed, statsUpdates)
        kept.correct = tf.keep(countCorrect(logits, ys))
        return sparseCrossEntropy(logits, ys)
      },
      true,
      variables,
    )
    applyMovingStats(statsUpdates)
    return { loss: cost ? cost.dataSync()[0] : NaN, correct: kept.correct?.dataSync()[0] ?? 0 }
  } finally {
    cost?.dispose()
    kept.correct?.dispose()
    for (const u of statsUpdates) tf.dispose([u.mean, u.variance])
  }
}

/** Loss and correct count of a batch in inference mode (batch norm uses its moving statistics). */
export function evalBatch(model: tf.LayersModel, xs: tf.Tensor4D, ys: tf.Tensor1D): BatchStats {
  const [loss, correct] = tf.tidy(() => {
    const logits = forwardLogits(model, xs, false)
    return [sparseCrossEntropy(logits, ys), countCorrect(logits, ys)]
  })
  try {
    return { loss: loss.dataSync()[0], correct: correct.dataSync()[0] }
  } finally {
    loss.dispose()
    correct.dispose()
  }
}

/** Adam whose learning rate can be changed between steps (for schedules). */
export class ScheduledAdam extends tf.AdamOptimizer {
  /** Sets the learning rate used by the next `applyGradients`. */
  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate
  }

  /** The learning rate the next step will use. */
  getLearningRate(): number {
    return this.learningRate
  }
}

/** Creates an Adam optimizer (Keras defaults: beta1 0.9, beta2 0.999, epsilon 1e-7). */
export function createAdam(learningRate: number): ScheduledAdam {
  return new ScheduledAdam(learningRate, 0.9, 0.999, 1e-7)
}
