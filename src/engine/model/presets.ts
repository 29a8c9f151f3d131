// The presets are pure data shared with the renderer: see src/shared/presets.ts.
export { PRESETS, type BuiltinPresetName, type Preset, type PresetDefaults } from '@shared/presets'
