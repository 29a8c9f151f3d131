import {
  TrainConfigSchema,
  type TrainConfig,
  type TrainConfigInput,
} from '@shared/schemas/training'
import type { Architecture } from '@shared/schemas/model'

import { PRESETS, type BuiltinPresetName } from './presets'

/** Training defaults for `custom` architectures: the `classic` preset's settings. */
const CUSTOM_DEFAULTS_FROM: BuiltinPresetName = 'classic'

/**
 * Input of `resolveTrainConfig`: any subset of the TrainConfig fields (schema input form); the
 * preset supplies the rest. `undefined` fields count as absent.
 */
export type TrainConfigOverrides = Partial<TrainConfigInput>

/** Copy of `input` without the keys whose value is `undefined`, so they cannot hide a default. */
function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== undefined),
  ) as Partial<T>
}

/**
 * Resolves a full TrainConfig: the preset's defaults (and its architecture), then the explicit
 * fields of `input` on top (explicit wins; `augmentation` is merged field by field). A `custom`
 * preset must come with an architecture. Throws a ZodError when the result is invalid.
 */
export function resolveTrainConfig(input: TrainConfigOverrides): TrainConfig {
  const explicit = definedOnly(input)
  const presetName = explicit.preset ?? 'classic'
  const preset = PRESETS[presetName === 'custom' ? CUSTOM_DEFAULTS_FROM : presetName]
  if (presetName === 'custom' && explicit.architecture === undefined) {
    throw new Error('preset "custom" needs an architecture')
  }
  const architecture: Architecture | TrainConfigInput['architecture'] =
    explicit.architecture ?? preset.architecture
  const augmentation = {
    ...preset.defaults.augmentation,
    ...(explicit.augmentation ? definedOnly(explicit.augmentation) : {}),
  }
  return TrainConfigSchema.parse({
    ...preset.defaults,
    ...explicit,
    preset: presetName,
    architecture,
    augmentation,
  })
}

/** The architecture a resolved config trains: its own, else its preset's. */
export function architectureOf(config: TrainConfig): Architecture {
  if (config.architecture) return config.architecture
  if (config.preset === 'custom') throw new Error('preset "custom" needs an architecture')
  return PRESETS[config.preset].architecture
}
