// Public API of the engine's train layer: the training loop, its step functions and lr schedules.
export * from './trainer'
export * from './forward'
export * from './schedule'
export * from './step'
