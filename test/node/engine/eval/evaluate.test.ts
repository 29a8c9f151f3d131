import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { Split } from '@engine/data/types'
import { evaluateModel } from '@engine/eval/evaluate'
import { predictProbabilitiesTta } from '@engine/io/predict'
import { buildModel } from '@engine/model/build'
import { EvaluationReportSchema } from '@shared/schemas/evaluation'
import { useTestBackend } from '../../helpers/backend'

// flatten + softmax(3) whose logits are [0, w*pixel0, w*pixel1] with w = ln 8, so an image with only
// pixel 0 lit predicts [0.1, 0.8, 0.1], only pixel 1 lit [0.1, 0.1, 0.8], and a blank one 1/3 each
// (ties go to class 0).
const W = Math.log(8)
let model: tf.LayersModel

function image(lit: number | null): Uint8Array {
  const pixels = new Uint8Array(784)
  if (lit !== null) pixels[lit] = 255
  return pixels
}

function split(samples: [number | null, number][]): Split {
  const images = new Uint8Array(samples.length * 784)
  samples.forEach(([lit], i) => images.set(image(lit), i * 784))
  return {
    images,
    labels: Uint8Array.from(samples.map(([, label]) => label)),
    count: samples.length,
  }
}

beforeAll(async () => {
  await useTestBackend()
  model = buildModel({ layers: [{ type: 'flatten' }] }, 3, 1)
  const kernel = tf.buffer([784, 3])
  kernel.set(W, 0, 1)
  kernel.set(W, 1, 2)
  model.setWeights([kernel.toTensor(), tf.zeros([3])])
})

afterAll(() => model.dispose())

describe('evaluateModel', () => {
  // sample: (lit pixel, label) -> predicted, p(actual)
  //   blank, 0 -> 0, 1/3 | p0, 1 -> 1, 0.8 | p1, 2 -> 2, 0.8 | p0, 2 -> 1, 0.1 (miss) | p1, 0 -> 2, 0.1 (miss)
  const data = split([
    [null, 0],
    [0, 1],
    [1, 2],
    [0, 2],
    [1, 0],
  ])

  it('with tta, judges the probabilities averaged over the stroke widths the pad reads at', () => {
    const plain = evaluateModel(model, data, ['zero', 'one', 'two'])
    const report = evaluateModel(model, data, ['zero', 'one', 'two'], { tta: true })
    const rows = predictProbabilitiesTta(model, data.images, data.count)
    const expectedLoss =
      -Array.from(data.labels, (label, i) => Math.log(rows[i * 3 + label]!)).reduce(
        (a, b) => a + b,
      ) / data.count
    expect(report.loss).toBeCloseTo(expectedLoss, 5)
    // A lone pixel thinned away or spread out reads otherwise: the figures are not the plain ones.
    expect(Math.abs(report.loss - plain.loss)).toBeGreaterThan(0.01)
  })

  it('computes accuracy, loss, confusion, predictions and misclassified samples', () => {
    const report = evaluateModel(model, data, ['zero', 'one', 'two'], { batchSize: 2 })
    expect(EvaluationReportSchema.parse(report)).toBeTruthy()
    expect(report.count).toBe(5)
    expect(report.accuracy).toBeCloseTo(3 / 5, 12)
    const expectedLoss = -(Math.log(1 / 3) + 2 * Math.log(0.8) + 2 * Math.log(0.1)) / 5
    expect(report.loss).toBeCloseTo(expectedLoss, 5)
    expect(report.predictions).toEqual([0, 1, 2, 1, 2])
    expect(report.confusion).toEqual([
      [1, 0, 1],
      [0, 1, 0],
      [0, 1, 1],
    ])
    expect(report.perClass.map((c) => c.support)).toEqual([2, 1, 2])
    expect(report.misclassified.map((m) => [m.index, m.actual, m.predicted])).toEqual([
      [3, 2, 1],
      [4, 0, 2],
    ])
    const top = report.misclassified[0].top
    expect(top.map((t) => t.index)).toEqual([1, 0, 2])
    expect(top[0].p).toBeCloseTo(0.8, 5)
    expect(top[1].p).toBeCloseTo(0.1, 5)
  })

  it('caps the misclassified list and leaks no tensors', () => {
    const before = tf.memory().numTensors
    const report = evaluateModel(model, data, ['zero', 'one', 'two'], { maxMisclassified: 1 })
    expect(report.misclassified.map((m) => m.index)).toEqual([3])
    expect(tf.memory().numTensors).toBe(before)
  })
})
