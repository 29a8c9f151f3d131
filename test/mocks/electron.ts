// Test stand-in for the 'electron' module (aliased in vitest.config.ts). The fakes live beside the
// main-process tests (inside their TypeScript project) so specs can import them with types.
export * from '../node/main/helpers/electronMock'
export { default } from '../node/main/helpers/electronMock'
