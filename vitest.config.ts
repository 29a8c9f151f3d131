import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

const alias = {
  '@shared': resolve(__dirname, 'src/shared'),
  '@engine': resolve(__dirname, 'src/engine'),
  '@renderer': resolve(__dirname, 'src/renderer/src'),
  electron: resolve(__dirname, 'test/mocks/electron.ts'),
}

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/node/**/*.test.ts'],
          // Tests of native TensorFlow alone run in the `native` project only.
          exclude: ['test/node/**/*.native.test.ts'],
          env: { INKLAB_TEST_BACKEND: 'wasm' },
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Engine tests train real models: one file at a time keeps the 2-core machine honest.
          fileParallelism: false,
        },
      },
      {
        // Every engine test again on native TensorFlow (tfjs-node), plus the native-only ones.
        // `npm test` runs it where native loads, and always when INKLAB_REQUIRE_NATIVE=1 (CI).
        resolve: { alias },
        test: {
          name: 'native',
          environment: 'node',
          include: ['test/node/engine/**/*.test.ts'],
          // The wasm backend's own kernels are tested in the `node` project.
          exclude: ['test/node/engine/backend/wasmKernels.test.ts'],
          env: { INKLAB_TEST_BACKEND: 'native' },
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.spec.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        // Measurements that print figures (see each file's header); never part of `npm test`.
        resolve: { alias },
        test: {
          name: 'bench',
          environment: 'node',
          include: ['test/bench/**/*.measure.ts'],
          env: { INKLAB_TEST_BACKEND: process.env.INKLAB_TEST_BACKEND ?? 'native' },
          fileParallelism: false,
        },
      },
      {
        plugins: [vue()],
        resolve: { alias },
        test: {
          name: 'renderer',
          environment: 'happy-dom',
          include: ['test/renderer/**/*.test.ts'],
        },
      },
    ],
  },
})
