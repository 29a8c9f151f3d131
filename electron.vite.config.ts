import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'

/**
 * electron-vite reads Electron's major version from node_modules/electron. On machines where the
 * optional `electron` package could not download its binary (and npm removed it), fall back to the
 * version this project declares so the engine, CLI and renderer still build.
 */
function declaredElectronMajor(): string {
  const pkg = JSON.parse(readFileSync(resolve(__dirname, 'package.json'), 'utf8')) as {
    optionalDependencies?: Record<string, string>
  }
  const range = pkg.optionalDependencies?.electron ?? '40'
  return /\d+/.exec(range)?.[0] ?? '40'
}
process.env.ELECTRON_MAJOR_VER ||= declaredElectronMajor()

const version = (
  JSON.parse(readFileSync(resolve(__dirname, 'package.json'), 'utf8')) as { version: string }
).version

const alias = {
  '@shared': resolve(__dirname, 'src/shared'),
  '@engine': resolve(__dirname, 'src/engine'),
}

export default defineConfig({
  main: {
    resolve: { alias },
    define: { __INKLAB_VERSION__: JSON.stringify(version) },
    build: {
      // The CLI and the engine host run on plain Node too, so target the oldest Node we support.
      target: 'node20',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          engineHost: resolve(__dirname, 'src/engine/host/processEntry.ts'),
          cli: resolve(__dirname, 'src/cli/index.ts'),
        },
      },
    },
  },
  preload: {
    resolve: { alias },
    build: {
      // A sandboxed preload can only require 'electron': bundle zod and the contract into it.
      externalizeDeps: false,
      rollupOptions: {
        external: ['electron'],
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    resolve: {
      alias: {
        '@renderer': resolve(__dirname, 'src/renderer/src'),
        '@shared': resolve(__dirname, 'src/shared'),
      },
    },
    plugins: [vue()],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
})
