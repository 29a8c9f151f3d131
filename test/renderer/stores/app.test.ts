import { describe, expect, it } from 'vitest'

import { useAppStore } from '@renderer/stores/app'
import { TEST_APP_INFO } from '../helpers/fakeBridge'
import { setupFake } from '../helpers/setup'

describe('useAppStore', () => {
  it('explains why the backend is not native', async () => {
    setupFake()
    const app = useAppStore()
    await app.init()
    expect(app.backendLabel).toBe(
      'wasm (WebAssembly SIMD) — native TensorFlow unavailable: libtensorflow.so not found',
    )
    expect(app.backendShortLabel).toBe('wasm · native TensorFlow unavailable')
    expect(app.engineError).toBeNull()
  })

  it('reports an engine crash from engine.status, and its recovery', async () => {
    const { fake } = setupFake()
    const app = useAppStore()
    await app.init()
    fake.emit('engine.status', { running: false, backend: null, error: 'exit code 134 (SIGABRT)' })
    expect(app.engineError).toBe('exit code 134 (SIGABRT)')
    expect(app.backendLabel).toBe('Engine not running')
    expect(app.backendShortLabel).toBe('Engine not running')
    fake.emit('engine.status', { running: true, backend: TEST_APP_INFO.backend })
    expect(app.engineError).toBeNull()
  })

  it('keeps error toasts until dismissed', () => {
    setupFake()
    const app = useAppStore()
    const id = app.notifyError(new Error('boom'), 'Export failed')
    expect(app.toasts).toEqual([{ id, kind: 'error', message: 'Export failed: boom' }])
    expect(app.notifyError(new Error('boom'), 'Export failed')).toBe(id)
    expect(app.toasts).toHaveLength(1)
    app.dismiss(id)
    expect(app.toasts).toEqual([])
  })

  it('keeps the short label of the native backend to its name', async () => {
    const { fake } = setupFake()
    const app = useAppStore()
    fake.emit('engine.status', {
      running: true,
      backend: {
        name: 'native',
        requested: 'auto',
        tfjsBackend: 'tensorflow',
        detail: 'native (TF 2.9)',
      },
    })
    expect(app.backendShortLabel).toBe('native')
    expect(app.backendLabel).toBe('native (TF 2.9)')
  })
})
