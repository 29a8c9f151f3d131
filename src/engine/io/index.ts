// Public API of the engine's io layer: model folders on disk, metadata and prediction.
export * from './modelFiles'
export * from './metadata'
export * from './predict'
export * from './export'
