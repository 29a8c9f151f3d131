import { describe, expect, it } from 'vitest'

import {
  fineTuneClassesProblem,
  fineTuneConfig,
  fineTuneEpochs,
  fineTuneLearningRate,
} from '@shared/fineTune'
import { INK_AUGMENTATION } from '@shared/presets'
import { resolveTrainConfig } from '@shared/trainConfig'

describe('the fine-tune schedule', () => {
  it('keeps the parent’s network and splits; 400 steps (one epoch of a big set) at a third of its rate, constant, with ink augmentation unless the parent had its own', () => {
    const parent = resolveTrainConfig({
      preset: 'classic',
      batchSize: 8,
      lrSchedule: 'cosine',
      earlyStoppingPatience: 3,
      emaDecay: 0.999,
      limit: 500,
      seed: 7,
    })
    const config = fineTuneConfig(parent, { trainSize: 19 })
    expect(config).toMatchObject({
      architecture: parent.architecture,
      batchSize: 8,
      validationSplit: parent.validationSplit,
      seed: 7,
      augmentation: INK_AUGMENTATION,
      epochs: 134,
      lrSchedule: 'constant',
      earlyStoppingPatience: 0,
      emaDecay: 0,
      limit: 0,
    })
    expect(config.learningRate).toBeCloseTo(parent.learningRate * 0.3)
    expect(fineTuneEpochs(19, 8), 'three batches an epoch').toBe(134)
    expect(
      fineTuneConfig(parent, { trainSize: 19, heldOut: 3 }).epochs,
      'the 3 held out make no steps: two batches an epoch',
    ).toBe(200)
    expect(fineTuneEpochs(200, 16), 'the collection bench’s drawings').toBe(31)
    expect(fineTuneEpochs(10_000, 128)).toBe(6)
    expect(fineTuneEpochs(1, 128)).toBe(200)
    expect(fineTuneEpochs(60_000, 128)).toBe(1)
    const augmented = resolveTrainConfig({ preset: 'fast' })
    expect(fineTuneConfig(augmented, { trainSize: 19 }).augmentation, 'the parent’s own').toEqual(
      augmented.augmentation,
    )
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
