import { describe, expect, it } from 'vitest'

import { classCounts, selectSamples, stratifiedSplit, takeStratified } from '@engine/data/split'
import type { Split } from '@engine/data/types'

/** A split whose image i starts with the bytes of i (so samples can be identified after copying). */
function makeSplit(classSizes: number[]): Split {
  const labelList: number[] = []
  classSizes.forEach((n, c) => {
    for (let k = 0; k < n; k++) labelList.push(c)
  })
  // Interleave classes so order-preservation is meaningful.
  const order = labelList
    .map((l, i) => ({ l, key: (i * 7919) % labelList.length }))
    .sort((a, b) => a.key - b.key)
  const count = order.length
  const images = new Uint8Array(count * 784)
  const labels = new Uint8Array(count)
  order.forEach(({ l }, i) => {
    labels[i] = l
    images[i * 784] = i & 255
    images[i * 784 + 1] = i >> 8
  })
  return { images, labels, count }
}

function ids(split: Split): number[] {
  const out: number[] = []
  for (let i = 0; i < split.count; i++)
    out.push(split.images[i * 784] | (split.images[i * 784 + 1] << 8))
  return out
}

describe('classCounts', () => {
  it('counts samples per class and rejects labels out of range', () => {
    const split = makeSplit([3, 0, 5])
    expect(classCounts(split, 3)).toEqual([3, 0, 5])
    expect(() => classCounts(split, 2)).toThrow(/label 2 but there are only 2 classes/)
  })
})

describe('stratifiedSplit', () => {
  const split = makeSplit([100, 37, 12, 1, 2])

  it('keeps class proportions within one sample and loses or duplicates nothing', () => {
    const { train, validation } = stratifiedSplit(split, 0.2, 42)
    const sizes = [100, 37, 12, 1, 2]
    const valCounts = classCounts(validation, 5)
    sizes.forEach((n, c) => expect(Math.abs(valCounts[c] - n * 0.2)).toBeLessThanOrEqual(1))
    expect(valCounts[3]).toBe(0) // a class with one sample stays in train
    const all = [...ids(train), ...ids(validation)].sort((a, b) => a - b)
    expect(all).toEqual(Array.from({ length: split.count }, (_, i) => i))
    // Labels travel with their images.
    for (const part of [train, validation]) {
      ids(part).forEach((id, i) => expect(part.labels[i]).toBe(split.labels[id]))
    }
  })

  it('is deterministic for a seed and differs for another seed', () => {
    const a = stratifiedSplit(split, 0.25, 7)
    const b = stratifiedSplit(split, 0.25, 7)
    const c = stratifiedSplit(split, 0.25, 8)
    expect(ids(a.validation)).toEqual(ids(b.validation))
    expect(ids(a.validation)).not.toEqual(ids(c.validation))
  })

  it('fraction 0 keeps everything in train; invalid fractions throw', () => {
    const { train, validation } = stratifiedSplit(split, 0, 1)
    expect(train.count).toBe(split.count)
    expect(validation.count).toBe(0)
    expect(() => stratifiedSplit(split, 1, 1)).toThrow(RangeError)
  })
})

describe('takeStratified', () => {
  const split = makeSplit([60, 30, 10])

  it('takes exactly n samples in class proportion, without duplicates', () => {
    const subset = takeStratified(split, 20, 3)
    expect(subset.count).toBe(20)
    expect(classCounts(subset, 3)).toEqual([12, 6, 2])
    expect(new Set(ids(subset)).size).toBe(20)
    const odd = takeStratified(split, 7, 3)
    const counts = classCounts(odd, 3)
    expect(odd.count).toBe(7)
    ;[0.6, 0.3, 0.1].forEach((p, c) => expect(Math.abs(counts[c] - 7 * p)).toBeLessThan(1))
  })

  it('is seeded, and returns everything when n >= count', () => {
    expect(ids(takeStratified(split, 10, 5))).toEqual(ids(takeStratified(split, 10, 5)))
    expect(ids(takeStratified(split, 10, 5))).not.toEqual(ids(takeStratified(split, 10, 6)))
    expect(takeStratified(split, 1000, 1).count).toBe(100)
  })
})

describe('selectSamples', () => {
  it('copies the chosen samples and keeps a Uint16Array label type', () => {
    const wide: Split = {
      images: new Uint8Array(3 * 784).map((_, i) => i % 251),
      labels: new Uint16Array([0, 300, 2]),
      count: 3,
    }
    const picked = selectSamples(wide, [1])
    expect(picked.labels).toBeInstanceOf(Uint16Array)
    expect(picked.labels[0]).toBe(300)
    expect(picked.images[0]).toBe(784 % 251)
    expect(() => selectSamples(wide, [3])).toThrow(RangeError)
  })
})
