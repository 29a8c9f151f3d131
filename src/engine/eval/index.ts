// Public API of the engine's eval layer: pure metrics and model evaluation.
export * from './metrics'
export * from './evaluate'
