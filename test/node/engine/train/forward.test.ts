import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { useTestBackend } from '../../helpers/backend'
import { buildModel } from '@engine/model/build'
import {
  applyMovingStats,
  forwardLogits,
  sparseCrossEntropy,
  trainableVariables,
  type MovingStatsUpdate,
} from '@engine/train/forward'
import { learningRateAt } from '@engine/train/schedule'

let model: tf.LayersModel

beforeAll(async () => {
  await useTestBackend()
  model = buildModel(
    {
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same' },
        { type: 'batchNorm' },
        { type: 'conv2d', filters: 5, kernelSize: 3, strides: 1, padding: 'valid' },
        { type: 'maxPool2d', poolSize: 2 },
        {
          type: 'conv2d',
          filters: 6,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'elu',
        },
        { type: 'flatten' },
        { type: 'dense', units: 6 },
        { type: 'batchNorm' },
      ],
    },
    3,
    11,
  )
})

afterAll(() => model.dispose())

function snapshot(): tf.Tensor[] {
  return model.getWeights().map((w) => tf.clone(w))
}

describe('forwardLogits', () => {
  it('matches tfjs-layers (batch norm, conv, pooling): same loss, gradients and moving statistics', () => {
    const start = snapshot()
    const xs = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D
    const ys = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32')
    const variables = trainableVariables(model)
    const run = (ours: boolean): { loss: number; grads: number[][]; stats: number[][] } => {
      model.setWeights(start)
      const updates: MovingStatsUpdate[] = []
      const { value, grads } = tf.variableGrads(
        () =>
          sparseCrossEntropy(
            forwardLogits(model, xs, true, undefined, ours ? updates : undefined),
            ys,
          ),
        variables,
      )
      if (ours) applyMovingStats(updates)
      const result = {
        loss: value.dataSync()[0],
        grads: variables.map((v) => Array.from(grads[v.name].dataSync())),
        stats: model.getWeights().map((w) => Array.from(w.dataSync())),
      }
      tf.dispose([value, ...Object.values(grads)])
      return result
    }
    const ours = run(true)
    const reference = run(false)
    expect(ours.loss).toBeCloseTo(reference.loss, 5)
    ours.grads.forEach((g, i) =>
      g.forEach((v, j) => expect(v).toBeCloseTo(reference.grads[i][j], 4)),
    )
    ours.stats.forEach((w, i) =>
      w.forEach((v, j) => expect(v).toBeCloseTo(reference.stats[i][j], 5)),
    )
    tf.dispose([xs, ys, ...start])
  })
})

describe('learningRateAt', () => {
  it('follows each schedule', () => {
    expect(learningRateAt('constant', 0.1, 50, 100)).toBe(0.1)
    expect(learningRateAt('cosine', 0.1, 0, 100)).toBeCloseTo(0.1, 12)
    expect(learningRateAt('cosine', 0.1, 50, 100)).toBeCloseTo(0.05, 12)
    expect(learningRateAt('cosine', 0.1, 99, 100)).toBeLessThan(0.001)
    expect(learningRateAt('step', 0.1, 10, 101)).toBe(0.1)
    expect(learningRateAt('step', 0.1, 60, 101)).toBeCloseTo(0.01, 12)
    expect(learningRateAt('step', 0.1, 90, 101)).toBeCloseTo(0.001, 12)
    // onecycle: 1/25 of the peak, the peak after a quarter, 1e-4 of it at the end.
    expect(learningRateAt('onecycle', 0.1, 0, 101)).toBeCloseTo(0.004, 12)
    expect(learningRateAt('onecycle', 0.1, 25, 101)).toBeCloseTo(0.1, 12)
    expect(learningRateAt('onecycle', 0.1, 100, 101)).toBeCloseTo(1e-5, 12)
  })
})
