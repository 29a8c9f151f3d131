import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import { TEST_BACKEND, useTestBackend } from '../../helpers/backend'
import { loadBuiltinMnist } from '@engine/data/mnistBuiltin'
import { takeStratified } from '@engine/data/split'
import type { Dataset } from '@engine/data/types'
import { evaluateModel } from '@engine/eval/evaluate'
import { loadModel } from '@engine/io/modelFiles'
import { ensembleSize } from '@engine/model/ensemble'
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

describe('trainAndSave with several networks (an ensemble)', () => {
  const small = () => ({
    ...mnist,
    train: takeStratified(mnist.train, 640, 1),
    test: takeStratified(mnist.test!, 300, 2),
  })

  it('trains them in turn on one split, counts epochs across them, and saves their average', async () => {
    const dataset = small()
    const events: { kind: string; epoch: number; epochs?: number }[] = []
    const lines: string[] = []
    const ensemble = await trainAndSave({
      dataset,
      config: { ...config(2), members: 2 },
      modelDir: join(dir, 'ensemble'),
      checkpointDir: join(dir, 'checkpoint'),
      onProgress: (p) =>
        events.push({ kind: p.kind, epoch: p.epoch, epochs: (p as { epochs?: number }).epochs }),
      log: (line) => lines.push(line),
    })
    expect(ensemble).toMatchObject({ stopReason: 'completed', saved: true, members: 2 })
    expect(ensemble.history.map((e) => [e.epoch, e.epochs])).toEqual([
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 4],
    ])
    expect(Math.max(...events.filter((e) => e.kind === 'batch').map((e) => e.epoch))).toBe(3)
    expect(ensemble.metrics.epochs).toBe(4)
    expect(lines.filter((l) => /^network \d of 2 alone: test accuracy/.test(l))).toHaveLength(2)

    // Its first network is the run of one network with the same settings, to the weight.
    const single = await trainAndSave({
      dataset,
      config: config(2),
      modelDir: join(dir, 'single'),
    })
    const saved = await loadModel(join(dir, 'ensemble'))
    const one = await loadModel(join(dir, 'single'))
    const checkpoint = await loadModel(join(dir, 'checkpoint'))
    try {
      expect(saved.metadata.members).toBe(2)
      expect(one.metadata.members).toBeUndefined()
      expect(ensembleSize(saved.model)).toBe(2)
      // After the first network finished, the checkpoint held it: a crash then keeps it.
      expect(ensembleSize(checkpoint.model)).toBe(1)
      const first = saved.model.getLayer('m1_conv2d_1').getWeights()[0].dataSync()
      const alone = one.model.getLayer('conv2d_1').getWeights()[0].dataSync()
      const second = saved.model.getLayer('m2_conv2d_1').getWeights()[0].dataSync()
      expect(Math.max(...first.map((w, i) => Math.abs(w - alone[i])))).toBeLessThan(1e-4)
      expect(Math.max(...first.map((w, i) => Math.abs(w - second[i])))).toBeGreaterThan(1e-2)
      // Both networks held out the same samples, and the average's validation figures are its own.
      expect(ensemble.validationCount).toBe(single.validationCount)
      const validation = trainingSplits(dataset, config(2)).validation!
      expect(saved.metadata.metrics.valAccuracy).toBe(
        evaluateModel(saved.model, validation, dataset.labels).accuracy,
      )
      expect(saved.metadata.metrics.testAccuracy).toBe(
        evaluateModel(saved.model, dataset.test, dataset.labels).accuracy,
      )
      // A fine-tune starts from one network: an ensemble is refused, in words.
      await expect(
        trainAndSave({
          dataset,
          config: config(1),
          modelDir: join(dir, 'tuned'),
          initialModelDir: join(dir, 'ensemble'),
        }),
      ).rejects.toThrow(/averages 2 networks \(an ensemble\), and a fine-tune trains one network/)
      await expect(
        trainAndSave({
          dataset,
          config: { ...config(1), members: 2 },
          modelDir: join(dir, 'tuned'),
          initialModelDir: join(dir, 'single'),
        }),
      ).rejects.toThrow(/a fine-tune trains one network/)
    } finally {
      saved.model.dispose()
      one.model.dispose()
      checkpoint.model.dispose()
    }
  })

  it('cancelled in a later network, keeps the ones that finished and says so', async () => {
    const controller = new AbortController()
    const result = await trainAndSave({
      dataset: small(),
      config: { ...config(1), members: 3 },
      modelDir: join(dir, 'model'),
      signal: controller.signal,
      onProgress: (p) => {
        if (p.kind === 'batch' && p.epoch === 1) controller.abort()
      },
    })
    expect(result).toMatchObject({ stopReason: 'cancelled', saved: true, members: 1 })
    // The model and its figures are the first network's, not those of the one cancelled.
    expect(result.bestEpoch).toBe(0)
    expect(result.metrics.valAccuracy).toBe(result.history[0].valAccuracy)
    expect(result.message).toMatch(
      /\(network 2 of 3\); keeping the average of the 1 network that finished$/,
    )
    const saved = await loadModel(join(dir, 'model'))
    try {
      expect(ensembleSize(saved.model)).toBe(1)
      expect(saved.metadata.members).toBeUndefined()
    } finally {
      saved.model.dispose()
    }
  })
})
