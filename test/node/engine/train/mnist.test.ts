import { beforeAll, describe, expect, it } from 'vitest'

import { useTestBackend } from '../../helpers/backend'
import { loadBuiltinMnist } from '@engine/data/mnistBuiltin'
import { takeStratified } from '@engine/data/split'
import type { Dataset } from '@engine/data/types'
import { evaluateModel } from '@engine/eval/evaluate'
import { resolveTrainConfig } from '@engine/model/config'
import { trainModel } from '@engine/train/trainer'

let mnist: Dataset

beforeAll(async () => {
  await useTestBackend()
  mnist = await loadBuiltinMnist()
})

describe('training on real MNIST', () => {
  it('the fast preset beats 95% test accuracy after 2 epochs on 6,000 samples', async () => {
    const config = resolveTrainConfig({
      preset: 'fast',
      epochs: 2,
      limit: 6000,
      validationSplit: 0.1,
    })
    const result = await trainModel({ dataset: mnist, config })
    try {
      expect(result.stopReason).toBe('completed')
      expect(result.trainCount).toBe(5400)
      const report = evaluateModel(result.model, takeStratified(mnist.test!, 2000, 7), mnist.labels)
      expect(report.count).toBe(2000)
      expect(report.accuracy).toBeGreaterThan(0.95)
    } finally {
      result.model.dispose()
    }
  })
})
