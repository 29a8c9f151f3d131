// Public entry of the engine: everything the CLI, the engine host and tests use.
export * from './data'
export * from './backend'
export * from './model'
export * from './train'
export * from './eval'
export * from './io'
export * from './bench'
export * from './native'
