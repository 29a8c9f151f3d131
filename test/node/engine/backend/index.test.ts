import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import {
  describeBackend,
  initBackend,
  NATIVE_NOT_INSTALLED_REASON,
  probeBackends,
} from '@engine/backend'
import { isNativePackageInstalled, loadNativeBinding } from '@engine/backend/nativeLoader'
import { BackendInfoSchema } from '@shared/schemas/backend'

const nativeInstalled = isNativePackageInstalled()

describe('initBackend', () => {
  it('picks native when tfjs-node loads, else wasm saying why', async () => {
    const info = await initBackend()
    expect(BackendInfoSchema.parse(info)).toEqual(info)
    const native = loadNativeBinding()
    if (native.ok) {
      expect(info).toMatchObject({ name: 'native', tfjsBackend: 'tensorflow' })
      expect(info.detail).toMatch(/^libtensorflow \d+\.\d+\.\d+ CPU, /)
      expect(info.nativeUnavailableReason).toBeUndefined()
      expect(tf.getBackend()).toBe('tensorflow')
    } else {
      expect(info).toMatchObject({ name: 'wasm', tfjsBackend: 'wasm' })
      expect(info.nativeUnavailableReason).toBe(native.reason)
      expect(tf.getBackend()).toBe('wasm')
    }
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
    expect(probes[0].available).toBe(loadNativeBinding().ok)
    if (!nativeInstalled) expect(probes[0].reason).toBe(NATIVE_NOT_INSTALLED_REASON)
    if (probes[0].available) expect(probes[0].detail).toMatch(/^libtensorflow /)
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
