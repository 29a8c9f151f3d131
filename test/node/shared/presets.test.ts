import { describe, expect, it } from 'vitest'

import { validateArchitecture } from '@shared/architecture'
import {
  defaultPresetFor,
  MIN_IMAGES_PER_CLASS,
  PRESETS,
  sparseClassWarning,
} from '@shared/presets'
import { TrainConfigSchema } from '@shared/schemas/training'

describe('the robust preset for folders', () => {
  it('is the default for folders only', () => {
    expect(defaultPresetFor({ kind: 'folder' })).toBe('robust')
    // MNIST and IDX sets: the preset with the shortest time to a good model.
    expect(defaultPresetFor({ kind: 'builtin' })).toBe('fast')
    expect(defaultPresetFor({ kind: 'idx' })).toBe('fast')
    // Drawings collected on the pad: a handful per class, trainable from five each.
    expect(defaultPresetFor({ kind: 'drawn' })).toBe('classic')
  })

  it('augments like real ink, trains long enough and stops early on a held-out split', () => {
    const { defaults, architecture } = PRESETS.robust
    expect(defaults.augmentation.enabled).toBe(true)
    expect(defaults.augmentation.thickness).toBeGreaterThan(0)
    expect(defaults.augmentation.elastic).toBeGreaterThan(0)
    expect(defaults.augmentation.shear).toBeGreaterThan(0)
    expect(defaults.earlyStoppingPatience).toBeGreaterThan(0)
    expect(defaults.validationSplit).toBeGreaterThan(0)
    expect(defaults.epochs).toBeGreaterThan(defaults.earlyStoppingPatience)
    expect(TrainConfigSchema.safeParse({ preset: 'robust', ...defaults }).success).toBe(true)
    for (const classes of [10, 26, 62])
      expect(validateArchitecture(architecture, classes).ok).toBe(true)
  })
})

describe('sparseClassWarning', () => {
  it('is null when every class has enough images', () => {
    expect(sparseClassWarning(['a', 'b'], [MIN_IMAGES_PER_CLASS, 500])).toBeNull()
  })

  it('names the sparse classes, fewest first, and counts the ones it leaves out', () => {
    expect(sparseClassWarning(['a', 'b', 'c'], [30, 3, 0])).toBe(
      `2 classes have fewer than ${MIN_IMAGES_PER_CLASS} training images ("c" 0, "b" 3): too few to learn reliably; add more images of these classes`,
    )
    const labels = Array.from({ length: 12 }, (_, i) => `k${i}`)
    const warning = sparseClassWarning(labels, new Array(12).fill(1))!
    expect(warning).toMatch(/^12 classes have/)
    expect(warning).toContain(', 4 more)')
    expect(sparseClassWarning(['x', 'y'], [1, 99])).toMatch(/^1 class has fewer/)
  })
})
