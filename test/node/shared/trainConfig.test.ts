import { describe, expect, it } from 'vitest'

import {
  architectureOf,
  describeAugmentation,
  epochInEnsemble,
  epochLabel,
  resolveTrainConfig,
  totalEpochs,
} from '@shared/trainConfig'
import { TrainRequestSchema } from '@shared/contract'
import { PRESETS } from '@shared/presets'

describe('resolveTrainConfig', () => {
  it('fills in the preset defaults and architecture', () => {
    const config = resolveTrainConfig({ preset: 'classic' })
    expect(config).toMatchObject({
      preset: 'classic',
      epochs: 15,
      batchSize: 128,
      learningRate: 1e-3,
      lrSchedule: 'constant',
      seed: 42,
      limit: 0,
      backend: 'auto',
    })
    expect(config.architecture).toEqual(PRESETS.classic.architecture)
    expect(architectureOf(config)).toEqual(PRESETS.classic.architecture)
  })

  it('defaults to classic', () => {
    expect(resolveTrainConfig({}).preset).toBe('classic')
  })

  it('lets explicit fields win and ignores undefined ones', () => {
    const config = resolveTrainConfig({
      preset: 'fast',
      epochs: 1,
      learningRate: undefined,
      augmentation: { enabled: true },
    })
    expect(config.epochs).toBe(1)
    expect(config.learningRate).toBe(PRESETS.fast.defaults.learningRate)
    expect(config.augmentation).toEqual({ ...PRESETS.fast.defaults.augmentation, enabled: true })
  })

  it('keeps an explicit architecture and requires one for custom', () => {
    const layers = [{ type: 'flatten' as const }]
    expect(resolveTrainConfig({ preset: 'custom', architecture: { layers } }).architecture).toEqual(
      { layers },
    )
    expect(() => resolveTrainConfig({ preset: 'custom' })).toThrow(/needs an architecture/)
  })

  it('rejects invalid values', () => {
    expect(() => resolveTrainConfig({ preset: 'fast', batchSize: 0 })).toThrow()
  })
})

describe('describeAugmentation', () => {
  it('says off, else names each range in use with its value', () => {
    const ranges = { rotation: 8, zoom: 0.125, shift: 1.5, shear: 0, thickness: 1, elastic: 0 }
    expect(describeAugmentation({ ...ranges, enabled: false })).toBe('off')
    expect(describeAugmentation({ ...ranges, enabled: true })).toBe(
      'rotation ±8°, zoom ±12.5%, shift ±1.5 px, stroke +1 px',
    )
    expect(describeAugmentation({ ...ranges, shear: 10, elastic: 2, enabled: true })).toBe(
      'rotation ±8°, zoom ±12.5%, shift ±1.5 px, slant ±10°, stroke +1 px, wobble 2 px',
    )
    const zero = { rotation: 0, zoom: 0, shift: 0, shear: 0, thickness: 0, elastic: 0 }
    expect(describeAugmentation({ ...zero, enabled: true })).toBe('on, every range at 0')
  })
})

describe('a training request through the contract', () => {
  it('leaves what it does not give to its preset, not to the schema defaults', () => {
    const request = TrainRequestSchema.parse({
      datasetId: 'd',
      config: { preset: 'accurate', epochs: 2, augmentation: { rotation: 5 } },
    })
    expect(request.config).toEqual({ preset: 'accurate', epochs: 2, augmentation: { rotation: 5 } })
    const config = resolveTrainConfig(request.config)
    const accurate = PRESETS.accurate.defaults
    expect(config).toMatchObject({
      epochs: 2,
      members: accurate.members,
      lrSchedule: accurate.lrSchedule,
      validationSplit: accurate.validationSplit,
      learningRate: accurate.learningRate,
    })
    // The preset's six networks, not the schema's default of one.
    expect(config.members).toBe(6)
    expect(config.augmentation).toEqual({ ...accurate.augmentation, rotation: 5 })
    // Out of range is still refused, field by field.
    expect(
      TrainRequestSchema.safeParse({ datasetId: 'd', config: { preset: 'fast', members: 0 } })
        .success,
    ).toBe(false)
  })
})

describe('epochs across an ensemble', () => {
  it("names an epoch by its network and its epoch there, and one network's by its epoch", () => {
    const four = { epochs: 30, members: 4 }
    expect(epochInEnsemble(0, four)).toEqual({ network: 0, epoch: 0 })
    expect(epochInEnsemble(34, four)).toEqual({ network: 1, epoch: 4 })
    expect(epochLabel(119, four)).toBe('network 4/4 epoch 30/30')
    expect(epochLabel(4, { epochs: 30, members: 1 })).toBe('epoch 5/30')
    expect(totalEpochs(four)).toBe(120)
  })
})
