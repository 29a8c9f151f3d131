import { describe, expect, it } from 'vitest'

import {
  fineTuneClassesProblem,
  fineTuneConfig,
  fineTuneEpochs,
  fineTuneLearningRate,
} from '@shared/fineTune'
import { resolveTrainConfig } from '@shared/trainConfig'

describe('the fine-tune schedule', () => {
  it('keeps the parent’s network and splits; a few epochs (100 steps for a few drawings, one epoch of a big set) at a third of its rate, constant', () => {
    const parent = resolveTrainConfig({
      preset: 'classic',
      batchSize: 8,
      lrSchedule: 'cosine',
      earlyStoppingPatience: 3,
      limit: 500,
      seed: 7,
    })
    const config = fineTuneConfig(parent, { trainSize: 19 })
    expect(config).toMatchObject({
      architecture: parent.architecture,
      batchSize: 8,
      validationSplit: parent.validationSplit,
      seed: 7,
      augmentation: parent.augmentation,
      epochs: 34,
      lrSchedule: 'constant',
      earlyStoppingPatience: 0,
      limit: 0,
    })
    expect(config.learningRate).toBeCloseTo(parent.learningRate * 0.3)
    expect(fineTuneEpochs(19, 8)).toBe(34)
    expect(fineTuneEpochs(10_000, 128)).toBe(5)
    expect(fineTuneEpochs(1, 128)).toBe(50)
    expect(fineTuneEpochs(60_000, 128)).toBe(1)
    expect(fineTuneConfig(parent, { trainSize: 19, epochs: 2, learningRate: 0.01 })).toMatchObject({
      epochs: 2,
      learningRate: 0.01,
    })
    expect(fineTuneLearningRate(1e-7), 'never below the lowest rate allowed').toBe(1e-7)
  })

  it('keeps a model’s classes: other classes, or the same in another order, are refused', () => {
    expect(fineTuneClassesProblem(['a', 'b'], 'Mine', ['a', 'b'])).toBeNull()
    expect(fineTuneClassesProblem(['a', 'b'], 'Mine', ['b', 'a'])).toMatch(
      /knows the classes a, b but “Mine” has b, a: a fine-tune keeps a model's classes/,
    )
    expect(fineTuneClassesProblem(['a', 'b'], 'Mine', ['a', 'b', 'c'])).toMatch(/has a, b, c/)
  })
})
