import { ArchitectureSchema, type LayerSpec } from '@shared/schemas/model'
import * as tf from '@tensorflow/tfjs'

import { createRng } from '../data/rng'
import {
  describeArchitectureIssues,
  INPUT_SIZE,
  validateArchitecture,
  type ArchitectureInput,
  type ArchitectureIssue,
} from './validate'

type Initializer = ReturnType<typeof tf.initializers.heNormal>

/** Name of the softmax output layer every built model ends with. */
export const OUTPUT_LAYER_NAME = 'output'

/** Moving-average momentum of batch-norm layers. */
export const BATCH_NORM_MOMENTUM = 0.9

/** Thrown by `buildModel` when the architecture is invalid; `errors` lists every problem. */
export class ArchitectureError extends Error {
  readonly errors: ArchitectureIssue[]

  constructor(errors: ArchitectureIssue[]) {
    super(`invalid architecture: ${describeArchitectureIssues(errors)}`)
    this.name = 'ArchitectureError'
    this.errors = errors
  }
}

/** He-normal for rectifier layers, Glorot-uniform otherwise, both seeded. */
function kernelInitializer(activation: string, seed: number): Initializer {
  return activation === 'relu' || activation === 'elu'
    ? tf.initializers.heNormal({ seed })
    : tf.initializers.glorotUniform({ seed })
}

function makeLayer(
  spec: LayerSpec,
  index: number,
  seed: number,
  inputShape: number[] | undefined,
): tf.layers.Layer {
  const name = `${spec.type}_${index + 1}`
  const common = inputShape ? { name, inputShape } : { name }
  switch (spec.type) {
    case 'conv2d':
      return tf.layers.conv2d({
        ...common,
        filters: spec.filters,
        kernelSize: spec.kernelSize,
        strides: spec.strides,
        padding: spec.padding,
        activation: spec.activation,
        kernelInitializer: kernelInitializer(spec.activation, seed),
      })
    case 'maxPool2d':
      return tf.layers.maxPooling2d({ ...common, poolSize: spec.poolSize, strides: spec.poolSize })
    case 'batchNorm':
      // Momentum 0.9 (Keras uses 0.99): moving statistics settle within tens of steps, so models
      // trained for a few hundred steps evaluate as well as they train.
      return tf.layers.batchNormalization({ ...common, momentum: BATCH_NORM_MOMENTUM })
    case 'dropout':
      // No seed: a seeded tfjs dropout draws the same mask on every call. The trainer applies its
      // own per-batch seeded dropout instead (see train/forward.ts).
      return tf.layers.dropout({ ...common, rate: spec.rate })
    case 'flatten':
      return tf.layers.flatten({ ...common })
    case 'globalAveragePool':
      return tf.layers.globalAveragePooling2d({ ...common })
    case 'dense':
      return tf.layers.dense({
        ...common,
        units: spec.units,
        activation: spec.activation,
        kernelInitializer: kernelInitializer(spec.activation, seed),
      })
  }
}

/**
 * Builds a sequential tf.LayersModel for 28x28x1 inputs from an architecture, ending in a Dense
 * softmax layer named `output` with `numClasses` units. Initializers are seeded from `seed`, so the
 * same arguments give the same initial weights. Throws `ArchitectureError` when the architecture is
 * invalid.
 */
export function buildModel(
  arch: ArchitectureInput,
  numClasses: number,
  seed: number,
): tf.Sequential {
  const report = validateArchitecture(arch, numClasses)
  if (!report.ok) throw new ArchitectureError(report.errors)
  const { layers } = ArchitectureSchema.parse(arch)
  const rng = createRng(seed)
  const nextSeed = (): number => rng.int(2 ** 31)
  const model = tf.sequential()
  const inputShape = [INPUT_SIZE, INPUT_SIZE, 1]
  layers.forEach((spec, i) => {
    model.add(makeLayer(spec, i, nextSeed(), i === 0 ? inputShape : undefined))
  })
  model.add(
    tf.layers.dense({
      name: OUTPUT_LAYER_NAME,
      units: numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }),
    }),
  )
  return model
}
