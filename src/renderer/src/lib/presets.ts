import type { LrSchedule, PresetName } from '@shared/schemas'

/** Form defaults of a built-in preset (mirrors the engine's PRESETS, which the renderer cannot import). */
export interface PresetDefaults {
  epochs: number
  batchSize: number
  learningRate: number
  lrSchedule: LrSchedule
  validationSplit: number
  augmentation: { enabled: boolean; rotation: number; zoom: number; shift: number }
  earlyStoppingPatience: number
}

export interface PresetOption {
  name: Exclude<PresetName, 'custom'>
  title: string
  description: string
  defaults: PresetDefaults
}

const NO_AUGMENTATION = { enabled: false, rotation: 10, zoom: 0.1, shift: 2 }

/** The presets the Train view offers, with one line each. */
export const PRESET_OPTIONS: readonly PresetOption[] = [
  {
    name: 'classic',
    title: 'Classic',
    description: 'Keras mnist_convnet: two conv/pool blocks, dropout 0.5, Adam 1e-3, 15 epochs',
    defaults: {
      epochs: 15,
      batchSize: 128,
      learningRate: 1e-3,
      lrSchedule: 'constant',
      validationSplit: 0.1,
      augmentation: NO_AUGMENTATION,
      earlyStoppingPatience: 0,
    },
  },
  {
    name: 'fast',
    title: 'Fast',
    description:
      'Small strided convs with batch norm and a one-cycle schedule: 99% on MNIST in minutes',
    defaults: {
      epochs: 3,
      batchSize: 256,
      learningRate: 4e-3,
      lrSchedule: 'onecycle',
      validationSplit: 0.05,
      augmentation: NO_AUGMENTATION,
      earlyStoppingPatience: 0,
    },
  },
  {
    name: 'accurate',
    title: 'Accurate',
    description:
      'Three batch-normalised conv blocks, augmentation, cosine schedule, 30 epochs (slow)',
    defaults: {
      epochs: 30,
      batchSize: 128,
      learningRate: 2e-3,
      lrSchedule: 'cosine',
      validationSplit: 0.1,
      augmentation: { enabled: true, rotation: 10, zoom: 0.1, shift: 2 },
      earlyStoppingPatience: 0,
    },
  },
]

/** The preset option by name (classic when unknown). */
export function presetOption(name: string): PresetOption {
  return PRESET_OPTIONS.find((p) => p.name === name) ?? PRESET_OPTIONS[0]!
}
