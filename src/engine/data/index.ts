// Public API of the engine's data layer.
export * from './types'
export * from './rng'
export * from './augment'
