import { describe, expect, it } from 'vitest'

import { architectureOf, resolveTrainConfig } from '@shared/trainConfig'
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
