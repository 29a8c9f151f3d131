// Public API of the engine's model layer: presets, architecture validation, model building, configs.
export * from './presets'
export * from './validate'
export * from './build'
export * from './config'
export * from './layers'
