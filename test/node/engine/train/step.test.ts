import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { buildModel } from '@engine/model/build'
import { createTrainingStep } from '@engine/train/step'
import { TEST_BACKEND, useTestBackend } from '../../helpers/backend'

/** A model the graph step cannot express: a sigmoid hidden layer. */
function sigmoidModel(): tf.Sequential {
  const model = tf.sequential()
  model.add(tf.layers.flatten({ inputShape: [28, 28, 1] }))
  model.add(tf.layers.dense({ units: 4, activation: 'sigmoid' }))
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }))
  return model
}

const models: tf.LayersModel[] = []
let xs: tf.Tensor4D
let ys: tf.Tensor1D

beforeAll(async () => {
  await useTestBackend()
  xs = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D
  ys = tf.tensor1d([0, 1, 2, 0], 'int32')
})

afterAll(() => {
  models.forEach((m) => m.dispose())
  tf.dispose([xs, ys])
})

describe('createTrainingStep', () => {
  it(`on ${TEST_BACKEND}: auto runs the graph on native only, eager is always eager`, () => {
    const model = buildModel(
      { layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'flatten' }] },
      3,
      1,
    )
    models.push(model)
    const auto = createTrainingStep(model, { nextSeed: () => 1 })
    expect(auto.kind).toBe(TEST_BACKEND === 'native' ? 'graph' : 'eager')
    expect(auto.fallbackReason).toBeUndefined()
    const first = auto.run(xs, ys, 1e-3)
    let last = first
    for (let i = 0; i < 9; i++) last = auto.run(xs, ys, 1e-3)
    expect(last.loss).toBeLessThan(first.loss)
    auto.dispose()
    const eager = createTrainingStep(model, { request: 'eager', nextSeed: () => 1 })
    expect(eager.kind).toBe('eager')
    expect(Number.isFinite(eager.run(xs, ys, 1e-2).loss)).toBe(true)
    eager.dispose()
  })

  it(`on ${TEST_BACKEND}: a model the graph cannot express trains eagerly, or fails when the graph is required`, () => {
    const model = sigmoidModel()
    models.push(model)
    const auto = createTrainingStep(model, { nextSeed: () => 1 })
    expect(auto.kind).toBe('eager')
    if (TEST_BACKEND === 'native') {
      expect(auto.fallbackReason).toMatch(/activation "sigmoid" is not supported/)
      expect(() => createTrainingStep(model, { request: 'graph', nextSeed: () => 1 })).toThrow(
        /activation "sigmoid" is not supported/,
      )
    } else {
      expect(auto.fallbackReason).toBeUndefined()
      expect(() => createTrainingStep(model, { request: 'graph', nextSeed: () => 1 })).toThrow(
        /needs the native backend \(active: wasm\)/,
      )
    }
    expect(Number.isFinite(auto.run(xs, ys, 1e-2).loss)).toBe(true)
    auto.dispose()
  })
})
