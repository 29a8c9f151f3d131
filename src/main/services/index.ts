// The services layer: route handlers, the engine host client and on-disk stores. No Electron here.
export * from './dispatch'
export * from './engineClient'
export * from './events'
export * from './forkTransport'
export * from './hostTransport'
export * from './services'
export { NotFoundError, UserError } from './errors'
export { BUILTIN_DATASET_ID, BUILTIN_RUN_ID, INTERRUPTED_MESSAGE } from './runStore'
