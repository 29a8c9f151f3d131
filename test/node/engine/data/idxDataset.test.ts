import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { encodeIdx } from '@engine/data/idx'
import { loadIdxDirectory, loadIdxPair } from '@engine/data/idxDataset'

import { makeTempDir, syntheticImages } from './helpers'

async function writeIdx(path: string, dims: number[], data: Uint8Array, gzip = false) {
  const bytes = encodeIdx(dims, data)
  await writeFile(path, gzip ? gzipSync(bytes) : bytes)
}

describe('loadIdxDirectory', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  beforeEach(async () => {
    tmp = await makeTempDir()
  })
  afterEach(() => tmp.cleanup())

  it('loads MNIST-named train (gzip) and t10k (plain) pairs with digit labels', async () => {
    const trainImages = syntheticImages(30)
    const trainLabels = new Uint8Array(30).map((_, i) => i % 10)
    await writeIdx(join(tmp.dir, 'train-images-idx3-ubyte.gz'), [30, 28, 28], trainImages, true)
    await writeIdx(join(tmp.dir, 'train-labels-idx1-ubyte.gz'), [30], trainLabels, true)
    await writeIdx(join(tmp.dir, 't10k-images.idx3-ubyte'), [4, 28, 28], syntheticImages(4))
    await writeIdx(join(tmp.dir, 't10k-labels.idx1-ubyte'), [4], new Uint8Array([7, 2, 1, 0]))
    const ds = await loadIdxDirectory(tmp.dir)
    expect(ds.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(ds.train.count).toBe(30)
    expect(Buffer.from(ds.train.images).equals(Buffer.from(trainImages))).toBe(true)
    expect(Array.from(ds.train.labels)).toEqual(Array.from(trainLabels))
    expect(ds.test?.count).toBe(4)
    expect(Array.from(ds.test?.labels ?? [])).toEqual([7, 2, 1, 0])
    expect(ds.transposed).toBe(false)
    expect(ds.source).toEqual({ kind: 'idx', path: tmp.dir })
  })

  it('accepts a single training pair with no test split, and custom label names', async () => {
    await writeIdx(join(tmp.dir, 'train-images-idx3-ubyte'), [3, 28, 28], syntheticImages(3))
    await writeIdx(join(tmp.dir, 'train-labels-idx1-ubyte'), [3], new Uint8Array([0, 1, 1]))
    const ds = await loadIdxDirectory(tmp.dir, { labelNames: ['cat', 'dog'], name: 'pets' })
    expect(ds.test).toBeUndefined()
    expect(ds.labels).toEqual(['cat', 'dog'])
    expect(ds.name).toBe('pets')
  })

  it('makes sparse label values contiguous and names classes after the values', async () => {
    await writeIdx(join(tmp.dir, 'train-images-idx3-ubyte'), [4, 28, 28], syntheticImages(4))
    await writeIdx(join(tmp.dir, 'train-labels-idx1-ubyte'), [4], new Uint8Array([5, 9, 5, 12]))
    const ds = await loadIdxDirectory(tmp.dir)
    expect(ds.labels).toEqual(['5', '9', '12'])
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 0, 2])
  })

  it('EMNIST: transposes images back, maps 1-based letter labels through the mapping file', async () => {
    const prefix = 'emnist-letters'
    // Stored transposed: the upright pixel (row 2, column 20) sits at column 2, row 20.
    const raw = new Uint8Array(2 * 784)
    raw[20 * 28 + 2] = 255
    raw[784 + 5 * 28 + 1] = 99
    await writeIdx(join(tmp.dir, `${prefix}-train-images-idx3-ubyte.gz`), [2, 28, 28], raw, true)
    await writeIdx(
      join(tmp.dir, `${prefix}-train-labels-idx1-ubyte.gz`),
      [2],
      new Uint8Array([1, 3]),
      true,
    )
    await writeIdx(
      join(tmp.dir, `${prefix}-test-images-idx3-ubyte.gz`),
      [1, 28, 28],
      raw.slice(0, 784),
      true,
    )
    await writeIdx(
      join(tmp.dir, `${prefix}-test-labels-idx1-ubyte.gz`),
      [1],
      new Uint8Array([2]),
      true,
    )
    await writeFile(join(tmp.dir, `${prefix}-mapping.txt`), '1 65 97\n2 66 98\n3 67 99\n')
    const ds = await loadIdxDirectory(tmp.dir)
    expect(ds.name).toBe('emnist-letters')
    expect(ds.transposed).toBe(true)
    expect(ds.labels).toEqual(['A/a', 'B/b', 'C/c'])
    expect(Array.from(ds.train.labels)).toEqual([0, 2])
    expect(Array.from(ds.test?.labels ?? [])).toEqual([1])
    expect(ds.train.images[2 * 28 + 20]).toBe(255)
    expect(ds.train.images[20 * 28 + 2]).toBe(0)
    expect(ds.train.images[784 + 1 * 28 + 5]).toBe(99)
  })

  it('asks which set to load when several prefixes are present, and loads the chosen one', async () => {
    for (const p of ['emnist-digits', 'emnist-mnist']) {
      await writeIdx(join(tmp.dir, `${p}-train-images-idx3-ubyte`), [2, 28, 28], syntheticImages(2))
      await writeIdx(join(tmp.dir, `${p}-train-labels-idx1-ubyte`), [2], new Uint8Array([0, 1]))
    }
    await expect(loadIdxDirectory(tmp.dir)).rejects.toThrow(
      /several IDX datasets \(emnist-digits, emnist-mnist\)/,
    )
    const ds = await loadIdxDirectory(tmp.dir, { prefix: 'emnist-mnist' })
    expect(ds.name).toBe('emnist-mnist')
  })

  it('names both files, each once, when image and label counts disagree', async () => {
    await writeIdx(join(tmp.dir, 'train-images-idx3-ubyte'), [3, 28, 28], syntheticImages(3))
    await writeIdx(join(tmp.dir, 'train-labels-idx1-ubyte'), [2], new Uint8Array([0, 1]))
    const error = (await loadIdxDirectory(tmp.dir).catch((e: unknown) => e)) as Error
    expect(error.message).toBe(
      'train-images-idx3-ubyte: 3 images, but train-labels-idx1-ubyte has 2 labels',
    )
  })

  it('refuses images that are not 28x28', async () => {
    await writeIdx(join(tmp.dir, 'train-images-idx3-ubyte'), [1, 32, 32], new Uint8Array(1024))
    await writeIdx(join(tmp.dir, 'train-labels-idx1-ubyte'), [1], new Uint8Array([0]))
    await expect(loadIdxDirectory(tmp.dir)).rejects.toThrow(
      'train-images-idx3-ubyte: images are 32x32 but InkLab needs 28x28 images',
    )
  })

  it('explains what is missing: no IDX files, npz archives, a missing label file, a missing folder', async () => {
    await expect(loadIdxDirectory(tmp.dir)).rejects.toThrow(/no IDX image files found/)
    await writeFile(join(tmp.dir, 'k49-train-imgs.npz'), 'x')
    await expect(loadIdxDirectory(tmp.dir)).rejects.toThrow(/\.npz archives are not supported/)
    await writeIdx(join(tmp.dir, 'train-images-idx3-ubyte'), [1, 28, 28], new Uint8Array(784))
    await expect(loadIdxDirectory(tmp.dir)).rejects.toThrow(/no matching label file/)
    await expect(loadIdxDirectory(join(tmp.dir, 'missing'))).rejects.toThrow(
      'missing: folder not found',
    )
  })

  it('finds k49-style names (k49-train-imgs / k49-train-labels with idx suffix)', async () => {
    const dir = join(tmp.dir, 'kuzushiji')
    await mkdir(dir)
    await writeIdx(join(dir, 'k49-train-imgs-idx3-ubyte.gz'), [2, 28, 28], syntheticImages(2), true)
    await writeIdx(join(dir, 'k49-train-labels-idx1-ubyte.gz'), [2], new Uint8Array([0, 48]), true)
    const ds = await loadIdxDirectory(dir)
    expect(ds.name).toBe('k49')
    expect(ds.labels).toEqual(['0', '48'])
  })
})

describe('loadIdxPair', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  beforeEach(async () => {
    tmp = await makeTempDir()
  })
  afterEach(() => tmp.cleanup())

  it('loads arbitrary file names as a train-only dataset', async () => {
    const images = join(tmp.dir, 'my-images.bin')
    const labels = join(tmp.dir, 'my-labels.bin')
    await writeIdx(images, [2, 28, 28], syntheticImages(2))
    await writeIdx(labels, [2], new Uint8Array([1, 0]))
    const ds = await loadIdxPair(images, labels)
    expect(ds.train.count).toBe(2)
    expect(ds.test).toBeUndefined()
    expect(Array.from(ds.train.labels)).toEqual([1, 0])
    expect(ds.source).toEqual({ kind: 'idx', path: images })
  })
})
