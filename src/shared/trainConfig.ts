import { PRESETS, type BuiltinPresetName, type PresetDefaults } from './presets'
import type { Architecture } from './schemas/model'
import type { PresetName } from './schemas/model'
import {
  TrainConfigSchema,
  type Augmentation,
  type TrainConfig,
  type TrainConfigInput,
} from './schemas/training'

/** The built-in preset whose training settings a `custom` architecture starts from. */
export const CUSTOM_DEFAULTS_FROM: BuiltinPresetName = 'classic'

/** The training settings `preset` starts from (a custom architecture takes classic's). */
export function presetDefaults(preset: PresetName): PresetDefaults {
  return PRESETS[preset === 'custom' ? CUSTOM_DEFAULTS_FROM : preset].defaults
}

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
 * preset must come with an architecture. Pure: the services resolve a run's config before the
 * engine sees it, the CLI before it trains. Throws a ZodError when the result is invalid.
 */
export function resolveTrainConfig(input: TrainConfigOverrides): TrainConfig {
  const explicit = definedOnly(input)
  const presetName = explicit.preset ?? 'classic'
  if (presetName === 'custom' && explicit.architecture === undefined) {
    throw new Error('preset "custom" needs an architecture')
  }
  const defaults = presetDefaults(presetName)
  const architecture =
    explicit.architecture ??
    PRESETS[presetName === 'custom' ? CUSTOM_DEFAULTS_FROM : presetName].architecture
  const augmentation = {
    ...defaults.augmentation,
    ...(explicit.augmentation ? definedOnly(explicit.augmentation) : {}),
  }
  return TrainConfigSchema.parse({
    ...defaults,
    ...explicit,
    preset: presetName,
    architecture,
    augmentation,
  })
}

/**
 * The epochs a run trains in all: its epochs for each network of an ensemble (progress counts
 * epochs across the networks, see TrainOptions.member).
 */
export function totalEpochs(config: Pick<TrainConfig, 'epochs' | 'members'>): number {
  return config.epochs * config.members
}

/**
 * Where epoch `epoch` (0-based, counted across an ensemble's networks) falls: its network and its
 * epoch in that network, both 0-based.
 */
export function epochInEnsemble(
  epoch: number,
  config: Pick<TrainConfig, 'epochs' | 'members'>,
): { network: number; epoch: number } {
  const network = Math.min(config.members - 1, Math.floor(epoch / config.epochs))
  return { network, epoch: epoch - network * config.epochs }
}

/** "epoch 3/30", or "network 2/4 epoch 3/30" in an ensemble (`epoch` as epochInEnsemble takes it). */
export function epochLabel(epoch: number, config: Pick<TrainConfig, 'epochs' | 'members'>): string {
  const at = epochInEnsemble(epoch, config)
  const inNetwork = `epoch ${at.epoch + 1}/${config.epochs}`
  return config.members > 1 ? `network ${at.network + 1}/${config.members} ${inNetwork}` : inNetwork
}

/** The architecture a resolved config trains: its own, else its preset's. */
export function architectureOf(config: TrainConfig): Architecture {
  if (config.architecture) return config.architecture
  if (config.preset === 'custom') throw new Error('preset "custom" needs an architecture')
  return PRESETS[config.preset].architecture
}

/** An augmentation range (not the switch). */
export type AugmentationRange = Exclude<keyof Augmentation, 'enabled'>

/** The name of each augmentation range, as the Train form labels it and runs describe it. */
export const AUGMENTATION_NAMES: Readonly<Record<AugmentationRange, string>> = {
  rotation: 'rotation',
  zoom: 'zoom',
  shift: 'shift',
  shear: 'slant',
  thickness: 'stroke',
  elastic: 'wobble',
}

/** How each augmentation range is named with its value (the Train form, the report, Models). */
export const AUGMENTATION_TEXT: Readonly<Record<AugmentationRange, (value: number) => string>> = {
  rotation: (v) => `${AUGMENTATION_NAMES.rotation} ±${v}°`,
  zoom: (v) => `${AUGMENTATION_NAMES.zoom} ±${Math.round(v * 1000) / 10}%`,
  shift: (v) => `${AUGMENTATION_NAMES.shift} ±${v} px`,
  shear: (v) => `${AUGMENTATION_NAMES.shear} ±${v}°`,
  thickness: (v) => `${AUGMENTATION_NAMES.thickness} +${v} px`,
  elastic: (v) => `${AUGMENTATION_NAMES.elastic} ${v} px`,
}

/** Augmentation in one line: "off", else each range in use ("rotation ±8°, zoom ±8%"). */
export function describeAugmentation(augmentation: Augmentation): string {
  if (!augmentation.enabled) return 'off'
  const ranges = (Object.keys(AUGMENTATION_TEXT) as AugmentationRange[])
    .filter((key) => augmentation[key] > 0)
    .map((key) => AUGMENTATION_TEXT[key](augmentation[key]))
  return ranges.length > 0 ? ranges.join(', ') : 'on, every range at 0'
}
