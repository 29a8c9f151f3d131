import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { DatasetSummarySchema } from '@shared/schemas/dataset'
import {
  listTemporarySiblings,
  loadSavedDataset,
  saveDataset,
  summarizeDataset,
} from '@engine/data/datasetStore'
import { DatasetError, type Dataset } from '@engine/data/types'

import { makeTempDir, syntheticImages } from './helpers'

function sampleDataset(): Dataset {
  return {
    name: 'letters',
    labels: ['a', 'b', 'c'],
    train: { images: syntheticImages(5), labels: new Uint8Array([0, 1, 2, 2, 1]), count: 5 },
    test: { images: syntheticImages(2), labels: new Uint8Array([2, 0]), count: 2 },
    source: { kind: 'folder', path: '/somewhere/letters' },
    skipped: [{ file: 'a/x.txt', reason: 'unsupported file type (.txt)' }],
    transposed: true,
  }
}

describe('datasetStore', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  beforeEach(async () => {
    tmp = await makeTempDir()
  })
  afterEach(() => tmp.cleanup())

  it.each([false, true])('round-trips every field (gzip: %s)', async (gzip) => {
    const dir = join(tmp.dir, 'store', 'letters')
    const ds = sampleDataset()
    await saveDataset(dir, ds, { gzip })
    const files = (await readdir(dir)).sort()
    const ext = gzip ? '.gz' : ''
    expect(files).toEqual(
      [
        'dataset.json',
        `test-images-idx3-ubyte${ext}`,
        `test-labels-idx1-ubyte${ext}`,
        `train-images-idx3-ubyte${ext}`,
        `train-labels-idx1-ubyte${ext}`,
      ].sort(),
    )
    if (gzip)
      expect((await readFile(join(dir, 'train-images-idx3-ubyte.gz'))).subarray(0, 2)).toEqual(
        Buffer.from([0x1f, 0x8b]),
      )
    const back = await loadSavedDataset(dir)
    expect(back.name).toBe(ds.name)
    expect(back.labels).toEqual(ds.labels)
    expect(back.source).toEqual(ds.source)
    expect(back.skipped).toEqual(ds.skipped)
    expect(back.transposed).toBe(true)
    expect(Buffer.from(back.train.images).equals(Buffer.from(ds.train.images))).toBe(true)
    expect(Array.from(back.train.labels)).toEqual([0, 1, 2, 2, 1])
    expect(back.test?.count).toBe(2)
    expect(Array.from(back.test?.labels ?? [])).toEqual([2, 0])
  })

  it('keeps the file each sample was imported from, and drops names that do not fit', async () => {
    const dir = join(tmp.dir, 'store', 'named')
    const ds = sampleDataset()
    ds.source = { kind: 'folder', path: '/somewhere/letters', test: { fraction: 0.15 } }
    ds.train.files = ['a/1.png', 'b/2.png', 'c/3.png', 'c/4.png', 'b/5.png']
    ds.test!.files = ['c/9.png', 'a/8.png']
    await saveDataset(dir, ds)
    const back = await loadSavedDataset(dir)
    expect(back.train.files).toEqual(ds.train.files)
    expect(back.test?.files).toEqual(ds.test!.files)
    expect(back.source).toEqual(ds.source)
    // A damaged list is ignored (the samples load without names), never shifted onto others.
    await writeFile(join(dir, 'sources.json'), JSON.stringify({ train: ['only-one.png'] }))
    const damaged = await loadSavedDataset(dir)
    expect(damaged.train.files).toBeUndefined()
    expect(damaged.train.count).toBe(5)
    await writeFile(join(dir, 'sources.json'), '{not json')
    expect((await loadSavedDataset(dir)).train.files).toBeUndefined()
    // A list of the wrong length is refused on save.
    ds.train.files = ['x.png']
    await expect(saveDataset(join(tmp.dir, 'store', 'bad'), ds)).rejects.toThrow(
      /5 samples but 1 source files/,
    )
  })

  it('keeps more than 256 classes (16-bit labels) and train-only datasets', async () => {
    const labels = Array.from({ length: 300 }, (_, i) => `c${i}`)
    const ds: Dataset = {
      ...sampleDataset(),
      labels,
      train: { images: syntheticImages(3), labels: new Uint16Array([0, 299, 150]), count: 3 },
    }
    delete ds.test
    const dir = join(tmp.dir, 'wide')
    await saveDataset(dir, ds)
    const back = await loadSavedDataset(dir)
    expect(back.train.labels).toBeInstanceOf(Uint16Array)
    expect(Array.from(back.train.labels)).toEqual([0, 299, 150])
    expect(back.test).toBeUndefined()
  })

  it('replaces an existing dataset atomically and leaves no temporary folders', async () => {
    const dir = join(tmp.dir, 'ds')
    await saveDataset(dir, sampleDataset())
    await writeFile(join(dir, 'stale-file'), 'x')
    const second = { ...sampleDataset(), name: 'second' }
    delete second.test
    await saveDataset(dir, second)
    const files = await readdir(dir)
    expect(files).not.toContain('stale-file')
    expect(files).not.toContain('test-images-idx3-ubyte')
    expect((await loadSavedDataset(dir)).name).toBe('second')
    expect(await listTemporarySiblings(dir)).toEqual([])
  })

  it('refuses to write an inconsistent dataset and cleans up', async () => {
    const bad = sampleDataset()
    bad.train = { ...bad.train, count: 6 }
    const dir = join(tmp.dir, 'bad')
    await expect(saveDataset(dir, bad)).rejects.toThrow(/train split is inconsistent/)
    const outOfRange = sampleDataset()
    outOfRange.train.labels[0] = 3
    await expect(saveDataset(dir, outOfRange)).rejects.toThrow(/label 3/)
    expect(await listTemporarySiblings(dir)).toEqual([])
  })

  it('explains what is wrong with a damaged saved dataset', async () => {
    const dir = join(tmp.dir, 'damaged')
    await expect(loadSavedDataset(dir)).rejects.toThrow('damaged: folder not found')
    await saveDataset(dir, sampleDataset())
    const metaPath = join(dir, 'dataset.json')
    const meta = JSON.parse(await readFile(metaPath, 'utf8'))

    await writeFile(metaPath, JSON.stringify({ ...meta, trainCount: 9 }))
    await expect(loadSavedDataset(dir)).rejects.toThrow(
      /train-images-idx3-ubyte: expected 9 images/,
    )

    await writeFile(
      metaPath,
      JSON.stringify({ ...meta, files: { ...meta.files, trainImages: '../../etc/passwd' } }),
    )
    await expect(loadSavedDataset(dir)).rejects.toThrow(
      /dataset\.json: invalid: files\.trainImages/,
    )

    await writeFile(metaPath, '{ not json')
    const err = await loadSavedDataset(dir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatasetError)
    expect((err as Error).message).toMatch(/^dataset\.json: not valid JSON/)
  })

  it('summarizes a dataset into the shared schema with per-class counts', () => {
    const summary = summarizeDataset(sampleDataset(), 'ds-1')
    expect(DatasetSummarySchema.parse(summary)).toEqual(summary)
    expect(summary.trainCounts).toEqual([1, 2, 2])
    expect(summary.testCounts).toEqual([1, 0, 1])
    expect(summary.trainSize).toBe(5)
    expect(summary.testSize).toBe(2)
    expect(summary.id).toBe('ds-1')
  })
})
