import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import type { DatasetSummary } from '@shared/schemas'

import { useAppStore } from '@renderer/stores/app'
import { PROGRESS_INTERVAL_MS, useDatasetStore } from '@renderer/stores/dataset'
import { makeDataset } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('useDatasetStore', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('imports a folder, shows throttled progress, then selects the new dataset', async () => {
    const pending = deferred<DatasetSummary>()
    const { fake } = setupFake({ 'dataset.importFolder': () => pending.promise })
    const data = useDatasetStore()

    const done = data.importFolder('  /data/letters ')
    expect(data.importing).toBe('folder')
    expect(fake.callsTo('dataset.importFolder')).toEqual([{ path: '/data/letters' }])

    fake.emit('dataset.progress', { phase: 'decoding', done: 1, total: 100 })
    expect(data.progress).toMatchObject({ done: 1 })
    fake.emit('dataset.progress', { phase: 'decoding', done: 50, total: 100, file: 'a/1.png' })
    expect(data.progress).toMatchObject({ done: 1 })
    vi.advanceTimersByTime(PROGRESS_INTERVAL_MS)
    expect(data.progress).toMatchObject({ done: 50, file: 'a/1.png' })

    pending.resolve(
      makeDataset({ id: 'ds-new', name: 'Letters', trainSize: 60_000, testSize: 10_000 }),
    )
    expect(await done).toMatchObject({ id: 'ds-new' })
    expect(useAppStore().toasts.map((t) => t.message)).toEqual(['Loaded “Letters”: 70,000 images'])
    expect(data.importing).toBeNull()
    expect(data.progress).toBeNull()
    expect(data.selectedId).toBe('ds-new')
    expect(data.datasets.map((d) => d.id)).toEqual(['ds-new'])
  })

  it('keeps the error (naming the file) when an import fails', async () => {
    setupFake({
      'dataset.openIdx': () => {
        throw Object.assign(new Error('label count 10 does not match image count 12'), {
          file: 't10k-labels-idx1-ubyte',
        })
      },
    })
    const data = useDatasetStore()
    const app = useAppStore()
    expect(await data.openIdx('/data/idx')).toBeNull()
    expect(data.importing).toBeNull()
    expect(data.importError).toBe(
      'label count 10 does not match image count 12 (t10k-labels-idx1-ubyte)',
    )
    expect(app.toasts.at(-1)).toMatchObject({ kind: 'error' })
    expect(app.toasts.at(-1)?.message).toContain('t10k-labels-idx1-ubyte')
  })

  it('cancelling asks the server and does not report an error', async () => {
    const pending = deferred<DatasetSummary>()
    const { fake } = setupFake({
      'dataset.importFolder': () => pending.promise,
      'dataset.cancelImport': () => {
        pending.reject(new Error('Import cancelled'))
        return { cancelled: true }
      },
    })
    const data = useDatasetStore()
    const app = useAppStore()
    const done = data.importFolder('/data/big')
    await data.cancelImport()
    expect(await done).toBeNull()
    expect(fake.callsTo('dataset.cancelImport')).toHaveLength(1)
    expect(data.importError).toBeNull()
    expect(app.toasts.every((t) => t.kind !== 'error')).toBe(true)
  })

  it('lists datasets and loads samples per class', async () => {
    const { fake } = setupFake({
      'dataset.list': () => [makeDataset()],
      'dataset.samples': (input) => [{ index: 1, label: input.label ?? 0, pixels: '' }],
    })
    const data = useDatasetStore()
    await data.refresh()
    expect(data.selectedId).toBe('ds-1')
    await data.loadSamples()
    await settle()
    expect(fake.callsTo('dataset.samples').map((c) => c.label)).toEqual([0, 1, 2])
    expect(Object.keys(data.samples)).toEqual(['0', '1', '2'])
  })
})
