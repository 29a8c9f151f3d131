import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { INFO_TOAST_MS, useAppStore } from '@renderer/stores/app'
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

  describe('toasts', () => {
    beforeEach(() => vi.useFakeTimers())
    afterEach(() => vi.useRealTimers())

    it('keeps errors until dismissed, and merges identical ones with a count', () => {
      setupFake()
      const app = useAppStore()
      const id = app.notifyError(new Error('boom'), 'Export failed')
      expect(app.toasts).toEqual([{ id, kind: 'error', message: 'Export failed: boom', count: 1 }])
      vi.advanceTimersByTime(10 * INFO_TOAST_MS)
      expect(app.notifyError(new Error('boom'), 'Export failed')).toBe(id)
      expect(app.toasts).toEqual([{ id, kind: 'error', message: 'Export failed: boom', count: 2 }])
      app.dismiss(id)
      expect(app.toasts).toEqual([])
    })

    it('lets info and success toasts expire; a repeat keeps one alive, newest last', () => {
      setupFake()
      const app = useAppStore()
      const saved = app.notify('Saved', 'success')
      const other = app.notify('Imported 3 layers', 'info')
      vi.advanceTimersByTime(INFO_TOAST_MS - 1_000)
      expect(app.notify('Saved', 'success')).toBe(saved)
      expect(app.toasts.map((t) => [t.message, t.count])).toEqual([
        ['Imported 3 layers', 1],
        ['Saved', 2],
      ])
      vi.advanceTimersByTime(1_000)
      expect(app.toasts.map((t) => t.id)).toEqual([saved])
      expect(other).not.toBe(saved)
      vi.advanceTimersByTime(INFO_TOAST_MS)
      expect(app.toasts).toEqual([])
    })

    it('dismisses everything at once', () => {
      setupFake()
      const app = useAppStore()
      app.notifyError(new Error('a'))
      app.notifyError(new Error('b'))
      app.notify('c')
      app.dismissAll()
      expect(app.toasts).toEqual([])
      vi.advanceTimersByTime(INFO_TOAST_MS)
      expect(app.toasts).toEqual([])
    })
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
