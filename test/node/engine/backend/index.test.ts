import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import {
  describeBackend,
  initBackend,
  NATIVE_NOT_INSTALLED_REASON,
  probeBackends,
} from '@engine/backend'
import { isNativePackageInstalled } from '@engine/backend/nativeLoader'
import { BackendInfoSchema } from '@shared/schemas/backend'

const nativeInstalled = isNativePackageInstalled()

describe('initBackend', () => {
  it.runIf(!nativeInstalled)('falls back to wasm and says why native is not running', async () => {
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

  it.runIf(nativeInstalled)('picks native when tfjs-node loads', async () => {
    const info = await initBackend()
    expect(info).toMatchObject({ name: 'native', tfjsBackend: 'tensorflow' })
    expect(info.nativeUnavailableReason).toBeUndefined()
    expect(tf.getBackend()).toBe('tensorflow')
  })

  it.runIf(!nativeInstalled)('throws the reason when native is asked for but missing', async () => {
    await expect(initBackend('native')).rejects.toThrow(NATIVE_NOT_INSTALLED_REASON)
  })

  it('is safe to call repeatedly and concurrently', async () => {
    const infos = await Promise.all([initBackend('wasm'), initBackend('cpu'), initBackend('wasm')])
    expect(infos.map((i) => i.name)).toEqual(['wasm', 'cpu', 'wasm'])
    expect(tf.getBackend()).toBe('wasm')
    const again = await initBackend('wasm')
    expect(again).toEqual(infos[2])
  })

  it('uses cpu only when asked, still explaining native', async () => {
    const info = await initBackend('cpu')
    expect(info).toMatchObject({ name: 'cpu', requested: 'cpu', tfjsBackend: 'cpu' })
    expect(info.nativeUnavailableReason).toBeTypeOf('string')
    expect(tf.getBackend()).toBe('cpu')
  })
})

describe('probeBackends', () => {
  it('lists every backend and leaves the active one in place', async () => {
    await initBackend('cpu')
    const probes = await probeBackends()
    expect(probes.map((p) => p.name)).toEqual(['native', 'wasm', 'cpu'])
    expect(probes[0].available).toBe(nativeInstalled)
    if (!nativeInstalled) expect(probes[0].reason).toBe(NATIVE_NOT_INSTALLED_REASON)
    expect(probes[1]).toEqual({ name: 'wasm', available: true })
    expect(probes[2].available).toBe(true)
    expect(tf.getBackend()).toBe('cpu')
  })
})

describe('describeBackend', () => {
  it('writes one line with the native reason when there is one', () => {
    expect(
      describeBackend({
        name: 'wasm',
        requested: 'auto',
        tfjsBackend: 'wasm',
        detail: 'WebAssembly SIMD, 1 thread',
        nativeUnavailableReason: 'no libtensorflow',
      }),
    ).toBe(
      'backend: wasm (WebAssembly SIMD, 1 thread) — native TensorFlow unavailable: no libtensorflow',
    )
    expect(
      describeBackend({
        name: 'native',
        requested: 'auto',
        tfjsBackend: 'tensorflow',
        detail: 'libtensorflow CPU',
      }),
    ).toBe('backend: native (libtensorflow CPU)')
  })
})
