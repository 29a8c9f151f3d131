import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import { TEST_BACKEND, useTestBackend } from '../../helpers/backend'
import { loadBuiltinMnist } from '@engine/data/mnistBuiltin'
import { takeStratified } from '@engine/data/split'
import type { Dataset } from '@engine/data/types'
import { loadModel } from '@engine/io/modelFiles'
import { predictPixels } from '@engine/io/predict'
import { trainingSplits } from '@engine/train/splits'
import { trainAndSave } from '@engine/train/trainAndSave'
import { resolveTrainConfig } from '@shared/trainConfig'

import { makeTmpDir } from '../../helpers/tmpDir'

const SMALL = {
  layers: [
    { type: 'conv2d' as const, filters: 8, kernelSize: 5, strides: 2, padding: 'same' as const },
    { type: 'flatten' as const },
  ],
}

let mnist: Dataset
let dir: string
let cleanup: () => Promise<void>

const config = (epochs: number) =>
  resolveTrainConfig({
    preset: 'custom',
    architecture: SMALL,
    epochs,
    batchSize: 32,
    learningRate: 3e-3,
    validationSplit: 0.2,
  })

beforeAll(async () => {
  await useTestBackend()
  mnist = await loadBuiltinMnist()
})
beforeEach(async () => {
  ;({ dir, cleanup } = await makeTmpDir('inklab-train-save-'))
})
afterEach(() => cleanup())

describe('trainAndSave', () => {
  it('evaluates on the test split, records it as such, and keeps the checkpoint it saved', async () => {
    const dataset = {
      ...mnist,
      train: takeStratified(mnist.train, 640, 1),
      test: takeStratified(mnist.test!, 300, 2),
    }
    const result = await trainAndSave({
      dataset,
      config: config(2),
      modelDir: join(dir, 'model'),
      checkpointDir: join(dir, 'checkpoint'),
      name: 'tiny',
      inklabVersion: '1.2.3',
    })
    expect(result).toMatchObject({ stopReason: 'completed', saved: true })
    expect(result.backend).toBe(TEST_BACKEND)
    expect(result.step).toBe(TEST_BACKEND === 'native' ? 'graph' : 'eager')
    expect(result.evaluation).toMatchObject({ split: 'test', count: 300 })
    expect(result.metrics.testAccuracy).toBe(result.evaluation!.accuracy)
    const saved = await loadModel(join(dir, 'model'))
    const checkpoint = await loadModel(join(dir, 'checkpoint'))
    try {
      expect(saved.metadata).toMatchObject({
        name: 'tiny',
        inklabVersion: '1.2.3',
        backend: TEST_BACKEND,
      })
      expect(saved.metadata.metrics.evaluation).toEqual(result.evaluation)
      expect(checkpoint.metadata.metrics.epochs).toBe(result.bestEpoch + 1)
      // The final model is the best checkpoint, evaluated.
      const probe = Array.from({ length: 10 }, (_, i) =>
        mnist.test!.images.subarray(i * 784, (i + 1) * 784),
      )
      expect(predictPixels(saved.model, probe, mnist.labels)).toEqual(
        predictPixels(checkpoint.model, probe, mnist.labels),
      )
    } finally {
      saved.model.dispose()
      checkpoint.model.dispose()
    }
  })

  it('without a test split, evaluates on the validation split and never calls it a test', async () => {
    const folderLike: Dataset = {
      ...mnist,
      train: takeStratified(mnist.train, 400, 3),
      test: undefined,
    }
    const cfg = config(1)
    const result = await trainAndSave({
      dataset: folderLike,
      config: cfg,
      modelDir: join(dir, 'm'),
    })
    const validation = trainingSplits(folderLike, cfg).validation!
    expect(result.evaluation).toMatchObject({ split: 'validation', count: validation.count })
    expect(result.metrics.testAccuracy).toBeUndefined()
    expect(result.metrics.testLoss).toBeUndefined()
    const { model, metadata } = await loadModel(join(dir, 'm'))
    model.dispose()
    expect(metadata.metrics.testAccuracy).toBeUndefined()
    expect(metadata.metrics.evaluation?.split).toBe('validation')
  })

  it('saves nothing when cancelled before the first epoch ends', async () => {
    const controller = new AbortController()
    controller.abort()
    const result = await trainAndSave({
      dataset: { ...mnist, train: takeStratified(mnist.train, 200, 4) },
      config: config(1),
      modelDir: join(dir, 'never'),
      checkpointDir: join(dir, 'never'),
      signal: controller.signal,
    })
    expect(result).toMatchObject({ stopReason: 'cancelled', saved: false, evaluation: null })
    expect(result.message).toBe('cancelled before the first epoch ended; there is no model to keep')
    expect(existsSync(join(dir, 'never'))).toBe(false)
  })
})
