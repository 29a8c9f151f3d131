import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { initBackend } from '@engine/backend/index'
import { loadBuiltinMnist } from '@engine/data/mnistBuiltin'
import { takeStratified } from '@engine/data/split'
import type { Dataset } from '@engine/data/types'
import { buildModel } from '@engine/model/build'
import { trainAndSave } from '@engine/train/trainAndSave'
import { trainModel } from '@engine/train/trainer'
import { fineTuneConfig } from '@shared/fineTune'
import { resolveTrainConfig } from '@shared/trainConfig'

import { makeTmpDir } from '../../helpers/tmpDir'

const SMALL = {
  layers: [
    { type: 'conv2d' as const, filters: 8, kernelSize: 5, strides: 2, padding: 'same' as const },
    { type: 'flatten' as const },
  ],
}

const parentConfig = resolveTrainConfig({
  preset: 'custom',
  architecture: SMALL,
  epochs: 4,
  batchSize: 32,
  learningRate: 3e-3,
  validationSplit: 0.2,
})

let dataset: Dataset
let dir: string
let cleanup: () => Promise<void>
let parent: Awaited<ReturnType<typeof trainAndSave>>

beforeAll(async () => {
  await initBackend('wasm')
  const mnist = await loadBuiltinMnist()
  dataset = { ...mnist, train: takeStratified(mnist.train, 800, 1), test: undefined }
  ;({ dir, cleanup } = await makeTmpDir('inklab-fine-tune-'))
  parent = await trainAndSave({
    dataset,
    config: parentConfig,
    modelDir: join(dir, 'parent'),
  })
})
afterAll(() => cleanup())

describe('fine-tuning (trainAndSave with initialModelDir)', () => {
  it("starts from the parent's weights: its first epoch's loss is near the parent's last, a fresh model's is not", async () => {
    expect(parent.saved).toBe(true)
    const parentBest = parent.history[parent.bestEpoch]!
    const config = fineTuneConfig(parentConfig, { trainSize: dataset.train.count, epochs: 2 })
    expect(config.learningRate, 'a tenth of the parent learning rate').toBeCloseTo(3e-4)

    const tuned = await trainAndSave({
      dataset,
      config,
      modelDir: join(dir, 'tuned'),
      initialModelDir: join(dir, 'parent'),
    })
    const fresh = await trainAndSave({ dataset, config, modelDir: join(dir, 'fresh') })
    const [tunedFirst, freshFirst] = [tuned.history[0]!, fresh.history[0]!]
    console.log(
      `parent best epoch loss ${parentBest.loss.toFixed(4)} (val ${parentBest.valLoss?.toFixed(4)}); ` +
        `fine-tune epoch 1 ${tunedFirst.loss.toFixed(4)} (val ${tunedFirst.valLoss?.toFixed(4)}); ` +
        `fresh epoch 1 ${freshFirst.loss.toFixed(4)}`,
    )
    // The parent's epoch loss is a mean over an epoch of improving weights; starting from its end,
    // the fine-tune's first epoch is no worse (with some room for the smaller steps' noise).
    expect(tunedFirst.loss).toBeLessThan(parentBest.loss * 1.15 + 0.02)
    expect(Math.abs(tunedFirst.valLoss! - parentBest.valLoss!)).toBeLessThan(0.15)
    // A fresh initialisation at the same low rate starts near chance (ln 10 = 2.3).
    expect(freshFirst.loss).toBeGreaterThan(1.5)
    expect(freshFirst.loss).toBeGreaterThan(tunedFirst.loss * 3)
  })

  it('refuses a dataset whose classes are not the model’s, naming both', async () => {
    const other = { ...dataset, name: 'letters', labels: [...'abcdefghij'] }
    await expect(
      trainAndSave({
        dataset: other,
        config: fineTuneConfig(parentConfig, { trainSize: 800 }),
        modelDir: join(dir, 'refused'),
        initialModelDir: join(dir, 'parent'),
      }),
    ).rejects.toThrow(
      /knows the classes 0, 1, 2, .* but “letters” has a, b, c, .*a fine-tune keeps a model's classes/,
    )
  })

  it('refuses weights of another network before the first step', async () => {
    const other = buildModel({ layers: [{ type: 'flatten' }] }, 10, 1)
    try {
      await expect(
        trainModel({
          dataset,
          config: parentConfig,
          initialWeights: other.getWeights(),
        }),
      ).rejects.toThrow(/the weights to start from do not fit this network/)
    } finally {
      other.dispose()
    }
  })
})
