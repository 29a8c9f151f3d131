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

/** Lets queued promise callbacks run (fake timers leave microtasks alone). */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

/** A File with `size` bytes at `path` in a picked folder (as `webkitRelativePath` has it). */
function picked(path: string, size = 3) {
  return { path, file: new File(['x'.repeat(size)], path.split('/').at(-1)!) }
}

describe('useDatasetStore', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('imports a folder, shows throttled progress, then selects the new dataset', async () => {
    const pending = deferred<DatasetSummary>()
    const { fake } = setupFake({ 'dataset.importFolder': () => pending.promise })
    const data = useDatasetStore()

    const done = data.importFolder('  /data/letters ')
    await microtasks()
    expect(data.importing).toBe('folder')
    expect(fake.callsTo('dataset.find')).toEqual([{ path: '/data/letters' }])
    expect(fake.callsTo('dataset.importFolder')).toEqual([
      { path: '/data/letters', test: { fraction: 0.15 } },
    ])

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
    await microtasks()
    await data.cancelImport()
    expect(await done).toBeNull()
    expect(fake.callsTo('dataset.cancelImport')).toHaveLength(1)
    expect(data.importError).toBeNull()
    expect(app.toasts.every((t) => t.kind !== 'error')).toBe(true)
  })

  it('asks before importing a folder again: use it, refresh it in place, or import a copy', async () => {
    const existing = makeDataset({ id: 'ds-old', name: 'Letters' })
    const { fake } = setupFake({
      'dataset.list': () => [makeDataset({ id: 'ds-other' }), existing],
      'dataset.find': () => existing,
      'dataset.importFolder': (input) => makeDataset({ id: input.replace ?? 'ds-copy' }),
    })
    const data = useDatasetStore()
    await data.refresh()
    data.testFraction = 0.2
    expect(await data.importFolder('/data/letters')).toBeNull()
    expect(data.pending).toMatchObject({ existing: { id: 'ds-old' } })
    expect(fake.callsTo('dataset.importFolder')).toEqual([])

    expect(await data.choose('reuse')).toMatchObject({ id: 'ds-old' })
    expect(data.selectedId).toBe('ds-old')
    expect(fake.callsTo('dataset.importFolder')).toEqual([])

    await data.importFolder('/data/letters')
    expect(await data.choose('refresh')).toMatchObject({ id: 'ds-old' })
    expect(fake.callsTo('dataset.importFolder')).toEqual([
      { path: '/data/letters', test: { fraction: 0.2 }, replace: 'ds-old' },
    ])
    expect(data.datasets.map((d) => d.id)).toEqual(['ds-other', 'ds-old'])

    await data.importFolder('/data/letters')
    expect(await data.choose('new')).toMatchObject({ id: 'ds-copy' })
    await data.importFolder('/data/letters')
    expect(await data.choose('cancel')).toBeNull()
    expect(data.pending).toBeNull()
    expect(fake.callsTo('dataset.importFolder')).toHaveLength(2)
  })

  it('uploads a folder chosen in the browser, then imports it; says what it left out', async () => {
    const { fake } = setupFake({
      'dataset.uploadStart': () => ({ uploadId: 'upload-1' }),
      'dataset.importUpload': () => makeDataset({ id: 'ds-up', name: 'digits' }),
    })
    const data = useDatasetStore()
    const summary = await data.uploadFolder([
      picked('digits/0/a.png'),
      picked('digits/1/b.JPG', 5),
      picked('digits/1/notes.txt'),
      picked('digits/.DS_Store'),
    ])
    expect(summary).toMatchObject({ id: 'ds-up' })
    const [started] = fake.callsTo('dataset.uploadStart')
    expect(started).toMatchObject({ name: 'digits', files: 2, bytes: 8 })
    expect(fake.uploads.map((u) => u.rel).sort()).toEqual(['0/a.png', '1/b.JPG'])
    expect(fake.callsTo('dataset.importUpload')).toEqual([
      { uploadId: 'upload-1', testFraction: 0.15 },
    ])
    expect(data.leftOut).toEqual([
      { path: '1/notes.txt', reason: 'not an image (PNG, JPEG, BMP, GIF, WebP or TIFF)' },
    ])
    expect(data.selectedId).toBe('ds-up')
  })

  it('says why a chosen folder cannot be uploaded, and sends nothing', async () => {
    const { fake } = setupFake()
    const data = useDatasetStore()
    await data.uploadFolder([picked('empty/.DS_Store')])
    expect(data.importError).toBe('The folder is empty: there are no files in it to import.')
    await data.uploadFolder([picked('docs/a/readme.md')])
    expect(data.importError).toMatch(/“docs” has no images/)
    await data.uploadFolder([picked('flat/a.png'), picked('flat/b.png')])
    expect(data.importError).toMatch(/“flat” has no class folders/)
    expect(fake.callsTo('dataset.uploadStart')).toEqual([])
  })

  it('discards the upload when the import fails or is cancelled', async () => {
    const { fake } = setupFake({
      'dataset.uploadStart': () => ({ uploadId: 'upload-2' }),
      'dataset.importUpload': () => {
        throw new Error('at least two classes with usable images are needed')
      },
      'dataset.uploadDiscard': () => ({ ok: true }),
    })
    const data = useDatasetStore()
    expect(await data.uploadFolder([picked('d/a/1.png'), picked('d/b/2.png')])).toBeNull()
    expect(data.importError).toMatch(/two classes/)
    expect(fake.callsTo('dataset.uploadDiscard')).toEqual([{ uploadId: 'upload-2' }])
  })

  it('renames and deletes datasets', async () => {
    const { fake } = setupFake({
      'dataset.list': () => [makeDataset({ id: 'a' }), makeDataset({ id: 'b' })],
      'dataset.rename': ({ datasetId, name }) => makeDataset({ id: datasetId, name }),
      'dataset.delete': () => ({ ok: true }),
    })
    const data = useDatasetStore()
    await data.refresh()
    expect(await data.rename('a', ' Mine ')).toBe(true)
    expect(fake.callsTo('dataset.rename')).toEqual([{ datasetId: 'a', name: 'Mine' }])
    expect(data.datasets.map((d) => d.name)).toEqual(['Mine', 'Letters'])
    expect(await data.remove('a')).toBe(true)
    expect(data.datasets.map((d) => d.id)).toEqual(['b'])
    expect(data.selectedId).toBe('b')
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
