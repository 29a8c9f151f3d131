import * as tf from '@tensorflow/tfjs'

import { initBackend } from '../backend'
import { buildModel } from '../model/build'
import { createTrainingStep } from '../train/step'

/** What `verifyNativeTraining` found. */
export interface NativeCheck {
  /** The backend's description (libtensorflow version). */
  detail: string
  /** Loss of the same batch before and after a few graph steps (it must fall). */
  lossBefore: number
  lossAfter: number
}

/**
 * Proves native TensorFlow works in this process: activates the native backend and trains a small
 * convolutional network for a few steps on one random batch with the graph step and the eager step
 * (the loss must fall with the graph step; both must agree on the first batch's loss). Throws with
 * the reason when anything fails.
 */
export async function verifyNativeTraining(): Promise<NativeCheck> {
  const info = await initBackend('native')
  const architecture = {
    layers: [
      { type: 'conv2d' as const, filters: 4, kernelSize: 3 },
      { type: 'maxPool2d' as const, poolSize: 2 },
      { type: 'batchNorm' as const },
      { type: 'flatten' as const },
    ],
  }
  const graphModel = buildModel(architecture, 3, 1)
  const eagerModel = buildModel(architecture, 3, 1)
  const xs = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D
  const ys = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32')
  const graph = createTrainingStep(graphModel, { request: 'graph', nextSeed: () => 1 })
  const eager = createTrainingStep(eagerModel, { request: 'eager', nextSeed: () => 1 })
  try {
    const first = graph.run(xs, ys, 1e-2)
    const reference = eager.run(xs, ys, 1e-2)
    if (!(Math.abs(first.loss - reference.loss) < 1e-3)) {
      throw new Error(`graph and eager steps disagree (loss ${first.loss} vs ${reference.loss})`)
    }
    let last = first
    for (let i = 0; i < 5; i++) last = graph.run(xs, ys, 1e-2)
    if (!(last.loss < first.loss)) {
      throw new Error(`training does not reduce the loss (${first.loss} then ${last.loss})`)
    }
    return { detail: info.detail, lossBefore: first.loss, lossAfter: last.loss }
  } finally {
    graph.dispose()
    eager.dispose()
    tf.dispose([xs, ys])
    graphModel.dispose()
    eagerModel.dispose()
  }
}
