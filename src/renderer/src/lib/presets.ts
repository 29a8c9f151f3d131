import { PRESETS, type BuiltinPresetName, type Preset } from '@shared/presets'

export type { PresetDefaults } from '@shared/presets'

/** A built-in preset as the Train view offers it. */
export interface PresetOption extends Preset {
  name: BuiltinPresetName
}

/** The presets the Train view offers, in menu order, with one line each. */
export const PRESET_OPTIONS: readonly PresetOption[] = (
  ['classic', 'fast', 'robust', 'accurate'] as const
).map((name) => ({ name, ...PRESETS[name] }))

/** The preset option by name (classic when unknown). */
export function presetOption(name: string): PresetOption {
  return PRESET_OPTIONS.find((p) => p.name === name) ?? PRESET_OPTIONS[0]!
}
