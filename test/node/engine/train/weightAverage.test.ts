import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'

import { useTestBackend } from '../../helpers/backend'
import { averagingDecayAt, WeightAverage } from '@engine/train/weightAverage'

/** A model with one weight of each kind: a kernel, a bias and batch-norm moving statistics. */
function tinyModel(): tf.Sequential {
  const model = tf.sequential()
  model.add(tf.layers.dense({ units: 2, inputShape: [2] }))
  model.add(tf.layers.batchNormalization())
  return model
}

/** Every weight of `model` set to `value`. */
function fill(model: tf.LayersModel, value: number): void {
  const weights = model.getWeights().map((w) => tf.fill(w.shape, value))
  model.setWeights(weights)
  tf.dispose(weights)
}

/** The values of every weight of `model`, flattened. */
function values(model: tf.LayersModel): number[] {
  return model.getWeights().flatMap((w) => Array.from(w.dataSync()))
}

beforeAll(async () => {
  await useTestBackend()
})

describe('averagingDecayAt', () => {
  it('warms up as (1 + t) / (10 + t) and then holds the configured decay', () => {
    expect(averagingDecayAt(0.999, 1)).toBeCloseTo(2 / 11, 12)
    expect(averagingDecayAt(0.999, 90)).toBeCloseTo(0.91, 12)
    expect(averagingDecayAt(0.999, 9000)).toBe(0.999)
    expect(averagingDecayAt(0.5, 1)).toBeCloseTo(2 / 11, 12)
    expect(averagingDecayAt(0.5, 100)).toBe(0.5)
  })
})

describe('WeightAverage', () => {
  it('averages every weight, batch-norm statistics included, with the step decay', () => {
    const model = tinyModel()
    fill(model, 0)
    const average = new WeightAverage(model, 0.5)
    fill(model, 1)
    average.update() // keeps 2/11 of the start (0)
    fill(model, 3)
    average.update() // keeps 3/12 of 9/11
    average.applyTo()
    const first = 9 / 11
    const expected = first + (3 - first) * (1 - 3 / 12)
    const averaged = values(model)
    expect(averaged).toHaveLength(2 * 2 + 2 + 4 * 2)
    for (const v of averaged) expect(v).toBeCloseTo(expected, 6)
    average.dispose()
    model.dispose()
  })

  it('lends the average to the model only for the call, also when the call throws', async () => {
    const model = tinyModel()
    fill(model, 2)
    const average = new WeightAverage(model, 0.9)
    fill(model, 5)
    const before = tf.memory().numTensors
    const seen = await average.withAverage(() => values(model))
    expect(seen.every((v) => v === 2)).toBe(true)
    expect(values(model).every((v) => v === 5)).toBe(true)
    await expect(
      average.withAverage(() => {
        throw new Error('validation failed')
      }),
    ).rejects.toThrow('validation failed')
    expect(values(model).every((v) => v === 5)).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
    average.dispose()
    expect(() => average.update()).toThrow(/disposed/)
    model.dispose()
  })
})
