import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { encodeIdx, parseIdx, parseIdxLabels16, readIdxFile } from '@engine/data/idx'
import { DatasetError } from '@engine/data/types'

import { makeTempDir, syntheticImages } from './helpers'

function header(magic: number, dims: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, magic)
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d))
  return out
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}

function catchError(fn: () => unknown): DatasetError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError)
    return err as DatasetError
  }
  throw new Error('expected a DatasetError')
}

describe('parseIdx', () => {
  it('reads the big-endian header and the payload of an image file', () => {
    const images = syntheticImages(3)
    const parsed = parseIdx(concat(header(0x803, [3, 28, 28]), images), 'x-images-idx3-ubyte')
    expect(parsed.dims).toEqual([3, 28, 28])
    expect(Array.from(parsed.data)).toEqual(Array.from(images))
  })

  it('reads label files and counts above 255 (big-endian, not little-endian)', () => {
    const labels = new Uint8Array(300).map((_, i) => i % 10)
    const parsed = parseIdx(concat(header(0x801, [300]), labels), 'labels')
    expect(parsed.dims).toEqual([300])
    expect(parsed.data[299]).toBe(9)
  })

  it('detects gzip by its magic bytes, whatever the file name', () => {
    const labels = new Uint8Array([3, 1, 4, 1, 5])
    const gz = gzipSync(concat(header(0x801, [5]), labels))
    expect(Array.from(parseIdx(gz, 'no-extension').data)).toEqual([3, 1, 4, 1, 5])
  })

  it('names the file and the sizes when the payload is truncated', () => {
    const bytes = concat(header(0x803, [10000, 28, 28]), new Uint8Array(1234))
    const err = catchError(() => parseIdx(bytes, '/data/t10k-images-idx3-ubyte.gz'))
    expect(err.message).toBe(
      't10k-images-idx3-ubyte.gz: truncated: header says 10000 images of 28x28 (7840000 bytes) but only 1234 bytes follow',
    )
    expect(err.file).toBe('/data/t10k-images-idx3-ubyte.gz')
  })

  it('rejects trailing bytes as a size mismatch', () => {
    const bytes = concat(header(0x801, [2]), new Uint8Array(5))
    expect(catchError(() => parseIdx(bytes, 'l')).message).toMatch(
      /size mismatch.*2 labels.*5 bytes/,
    )
  })

  it('rejects a truncated gzip stream', () => {
    const gz = gzipSync(concat(header(0x803, [100, 28, 28]), new Uint8Array(78400).fill(7)))
    const err = catchError(() => parseIdx(gz.subarray(0, gz.length / 2), 'train.gz'))
    expect(err.message).toMatch(/^train\.gz: corrupt or truncated gzip data/)
  })

  it('rejects a wrong magic number (e.g. a PNG renamed to .idx)', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])
    expect(catchError(() => parseIdx(png, 'a.idx')).message).toMatch(
      /wrong magic number 0x89504E47/,
    )
  })

  it('rejects data types other than unsigned bytes, saying which type it found', () => {
    const bytes = concat(header(0x00000d03, [1, 28, 28]), new Uint8Array(784 * 4))
    expect(catchError(() => parseIdx(bytes, 'f')).message).toMatch(
      /unsupported IDX data type 0x0D \(float32\)/,
    )
  })

  it('refuses headers claiming absurd sizes before allocating anything', () => {
    const bytes = header(0x803, [100_000_000, 28, 28])
    expect(catchError(() => parseIdx(bytes, 'huge')).message).toMatch(
      /more than the 2147483648 bytes/,
    )
  })

  it('rejects a file shorter than its header', () => {
    expect(catchError(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0]), 'h')).message).toMatch(
      /truncated: the IDX header needs 16 bytes/,
    )
  })
})

describe('encodeIdx / parseIdxLabels16', () => {
  it('round-trips uint8 data and int16 labels', () => {
    const labels = new Uint16Array([0, 300, 1000, 7])
    expect(Array.from(parseIdxLabels16(encodeIdx([4], labels), 'l16'))).toEqual([0, 300, 1000, 7])
    const small = new Uint8Array([1, 2, 3])
    const parsed = parseIdxLabels16(encodeIdx([3], small), 'l8')
    expect(parsed).toBeInstanceOf(Uint8Array)
    expect(Array.from(parsed)).toEqual([1, 2, 3])
  })
})

describe('readIdxFile', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  beforeEach(async () => {
    tmp = await makeTempDir()
  })
  afterEach(() => tmp.cleanup())

  it('reads plain and gzip files from disk', async () => {
    const images = syntheticImages(5)
    const raw = encodeIdx([5, 28, 28], images)
    await writeFile(join(tmp.dir, 'a'), raw)
    await writeFile(join(tmp.dir, 'b.gz'), gzipSync(raw))
    for (const name of ['a', 'b.gz']) {
      const parsed = await readIdxFile(join(tmp.dir, name))
      expect(parsed.dims).toEqual([5, 28, 28])
      expect(Buffer.from(parsed.data).equals(Buffer.from(images))).toBe(true)
    }
  })

  it('reports a missing file as a DatasetError naming it', async () => {
    await expect(readIdxFile(join(tmp.dir, 'nope-idx1-ubyte'))).rejects.toThrow(
      'nope-idx1-ubyte: file not found',
    )
  })
})
