// Test stand-in for the 'electron' module (aliased in vitest.config.ts); specs extend it as needed.
export const app = { getPath: () => '/tmp', isPackaged: false }
export default { app }
