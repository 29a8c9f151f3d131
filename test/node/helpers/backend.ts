import type { BackendInfo } from '@shared/schemas/backend'

import { initBackend } from '@engine/backend/index'

/**
 * The backend the engine tests run on: `native` in the vitest `native` project, `wasm` otherwise
 * (see vitest.config.ts). Each engine test that touches tensors activates it with `useTestBackend`.
 */
export const TEST_BACKEND: 'native' | 'wasm' =
  process.env.INKLAB_TEST_BACKEND === 'native' ? 'native' : 'wasm'

/** Activates `TEST_BACKEND`; on native it throws (failing the test) when native does not load. */
export function useTestBackend(): Promise<BackendInfo> {
  return initBackend(TEST_BACKEND)
}
