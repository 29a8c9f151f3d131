import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { changeThickness } from '@engine/data/augment'
import {
  predictPixels,
  predictProbabilities,
  predictProbabilitiesTta,
  TTA_THICKNESS,
  topK,
} from '@engine/io/predict'
import { buildModel } from '@engine/model/build'
import { randomImages } from '../../helpers/modelFixtures'
import { useTestBackend } from '../../helpers/backend'

let model: tf.LayersModel
const LABELS = ['a', 'b', 'c', 'd']

beforeAll(async () => {
  await useTestBackend()
  model = buildModel({ layers: [{ type: 'flatten' }, { type: 'dense', units: 8 }] }, 4, 5)
})

afterAll(() => model.dispose())

describe('predictPixels', () => {
  it('returns the best label, its confidence and the top 3 in order', () => {
    const before = tf.memory().numTensors
    const [prediction] = predictPixels(model, randomImages(1), LABELS)
    expect(tf.memory().numTensors).toBe(before)
    expect(prediction.top).toHaveLength(3)
    expect(prediction.label).toBe(LABELS[prediction.index])
    expect(prediction.top[0]).toEqual({ label: prediction.label, p: prediction.confidence })
    expect(prediction.top[0].p).toBeGreaterThanOrEqual(prediction.top[1].p)
    expect(prediction.top[1].p).toBeGreaterThanOrEqual(prediction.top[2].p)
  })

  it('with tta, averages the probabilities of the image read at each TTA stroke width', () => {
    const [image] = randomImages(1, 4)
    const variants = TTA_THICKNESS.map((t) => {
      const f = Float32Array.from(image!)
      const changed = t === 0 ? f : changeThickness(f, new Float32Array(784), t)
      return Uint8Array.from(changed, (v) => Math.round(v))
    })
    const each = variants.map((v) => predictProbabilities(model, v, 1))
    const mean = Array.from({ length: 4 }, (_, c) => each.reduce((a, p) => a + p[c]!, 0) / 4)
    const tta = predictProbabilitiesTta(model, image!, 1)
    mean.forEach((p, c) => expect(tta[c]).toBeCloseTo(p, 5))
    const [prediction] = predictPixels(model, [image!], LABELS, { tta: true })
    expect(prediction!.confidence).toBeCloseTo(Math.max(...mean), 5)
    // A batch reads each image as it reads it alone.
    const two = predictProbabilitiesTta(model, Uint8Array.from([...image!, ...image!]), 2)
    expect(Array.from(two.subarray(4))).toEqual(Array.from(tta))
  })

  it('gives the same answer alone and in a batch', () => {
    const images = randomImages(300, 9)
    const batch = predictPixels(model, images, LABELS)
    expect(batch).toHaveLength(300)
    expect(predictPixels(model, [images[299]], LABELS)[0].index).toBe(batch[299].index)
  })

  it('rejects images of the wrong size and label lists of the wrong length', () => {
    expect(() => predictPixels(model, [new Uint8Array(100)], LABELS)).toThrow(
      /image 0 has 100 pixels/,
    )
    expect(() => predictPixels(model, randomImages(1), ['a'])).toThrow(/4 outputs but 1 labels/)
    expect(predictPixels(model, [], LABELS)).toEqual([])
  })
})

describe('topK', () => {
  it('ranks best first, keeping index order on ties', () => {
    expect(topK([0.1, 0.5, 0.1, 0.3], 3)).toEqual([
      { index: 1, p: 0.5 },
      { index: 3, p: 0.3 },
      { index: 0, p: 0.1 },
    ])
    expect(topK([1], 3)).toEqual([{ index: 0, p: 1 }])
  })
})
