// Public API of the engine's train layer: the training loop, the one train-evaluate-save path,
// the splits a run uses, its step functions and lr schedules.
export * from './trainer'
export * from './trainAndSave'
export * from './splits'
export * from './forward'
export * from './schedule'
export * from './step'
