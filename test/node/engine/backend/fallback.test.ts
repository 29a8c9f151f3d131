// initBackend where tfjs-node is not installed, whatever this machine has: the loader is replaced
// by one that finds no package.
import * as tf from '@tensorflow/tfjs'
import { describe, expect, it, vi } from 'vitest'

import { initBackend, NATIVE_NOT_INSTALLED_REASON, probeBackends } from '@engine/backend'
import { BackendInfoSchema } from '@shared/schemas/backend'

vi.mock('@engine/backend/nativeLoader', async (importOriginal) => {
  const original = await importOriginal<typeof import('@engine/backend/nativeLoader')>()
  const missing = { ok: false as const, reason: original.NATIVE_NOT_INSTALLED_REASON }
  return {
    ...original,
    isNativePackageInstalled: () => false,
    nativePackageDir: () => undefined,
    loadNativeBinding: () => missing,
    nativeLoadAttempt: () => missing,
  }
})

describe('initBackend without tfjs-node', () => {
  it('falls back to wasm and says why native is not running', async () => {
    const info = await initBackend()
    expect(BackendInfoSchema.parse(info)).toEqual(info)
    expect(info).toMatchObject({
      name: 'wasm',
      requested: 'auto',
      tfjsBackend: 'wasm',
      nativeUnavailableReason: NATIVE_NOT_INSTALLED_REASON,
    })
    expect(info.detail).toMatch(/^WebAssembly SIMD, 1 thread/)
    expect(tf.getBackend()).toBe('wasm')
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined()
  })

  it('throws the reason when native is asked for', async () => {
    await expect(initBackend('native')).rejects.toThrow(NATIVE_NOT_INSTALLED_REASON)
  })

  it('explains native after an explicit wasm or cpu request', async () => {
    expect((await initBackend('cpu')).nativeUnavailableReason).toBe(NATIVE_NOT_INSTALLED_REASON)
    expect((await initBackend('wasm')).nativeUnavailableReason).toBe(NATIVE_NOT_INSTALLED_REASON)
  })

  it('lists native as unavailable with the reason', async () => {
    const [native] = await probeBackends()
    expect(native).toEqual({
      name: 'native',
      available: false,
      reason: NATIVE_NOT_INSTALLED_REASON,
    })
  })
})
