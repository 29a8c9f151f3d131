import { describe, expect, it } from 'vitest'

import { augmentBatch } from '@engine/data/augment'
import { createRng, type Rng } from '@engine/data/rng'

import { centreOfMass, syntheticImages } from './helpers'

const OFF = { enabled: false, rotation: 10, zoom: 0.1, shift: 2 }

/** An Rng whose next() replays fixed values (to construct exact transforms). */
function fixedRng(values: number[]): Rng {
  let i = 0
  const rng = createRng(0)
  return { ...rng, next: () => values[i++ % values.length] }
}

describe('createRng', () => {
  it('is deterministic per seed, in [0, 1), with int() and shuffle()', () => {
    const a = createRng(42)
    const b = createRng(42)
    const c = createRng(43)
    const seqA = Array.from({ length: 1000 }, () => a.next())
    expect(seqA).toEqual(Array.from({ length: 1000 }, () => b.next()))
    expect(seqA).not.toEqual(Array.from({ length: 1000 }, () => c.next()))
    expect(seqA.every((v) => v >= 0 && v < 1)).toBe(true)
    const mean = seqA.reduce((x, y) => x + y) / seqA.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05)
    const ints = Array.from({ length: 1000 }, () => a.int(6))
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3, 4, 5]))
    const arr = Uint32Array.from({ length: 50 }, (_, i) => i)
    createRng(1).shuffle(arr)
    expect(Array.from(arr).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(Array.from(arr)).not.toEqual(Array.from({ length: 50 }, (_, i) => i))
  })
})

describe('augmentBatch', () => {
  const images = syntheticImages(10)

  it('disabled: the selected samples scaled by exactly 1/255', () => {
    const out = augmentBatch(images, [3, 0], OFF, createRng(1))
    expect(out.length).toBe(2 * 784)
    for (let p = 0; p < 784; p++) {
      expect(out[p]).toBe(Math.fround(images[3 * 784 + p] * (1 / 255)))
      expect(out[784 + p]).toBe(Math.fround(images[p] * (1 / 255)))
    }
  })

  it('enabled with zero ranges is the identity', () => {
    const none = { enabled: true, rotation: 0, zoom: 0, shift: 0 }
    const a = augmentBatch(images, [1, 2, 5], none, createRng(9))
    const b = augmentBatch(images, [1, 2, 5], OFF, createRng(9))
    expect(Array.from(a)).toEqual(Array.from(b))
  })

  it('is deterministic per seed, stays in [0, 1], and changes the images', () => {
    const on = { enabled: true, rotation: 15, zoom: 0.15, shift: 2 }
    const idx = [0, 1, 2, 3, 4, 5, 6, 7]
    const a = augmentBatch(images, idx, on, createRng(5))
    const b = augmentBatch(images, idx, on, createRng(5))
    const c = augmentBatch(images, idx, on, createRng(6))
    expect(Array.from(a)).toEqual(Array.from(b))
    expect(Array.from(a)).not.toEqual(Array.from(c))
    expect(a.every((v) => v >= 0 && v <= 1)).toBe(true)
    expect(Array.from(a)).not.toEqual(Array.from(augmentBatch(images, idx, OFF, createRng(5))))
  })

  it('a shift of exactly +1 px moves every pixel one step right and down', () => {
    // next() = 1 gives the top of each range: shift (+1, +1), and no rotation/zoom since those ranges are 0.
    const out = augmentBatch(
      images,
      [4],
      { enabled: true, rotation: 0, zoom: 0, shift: 1 },
      fixedRng([1]),
    )
    for (let y = 1; y < 28; y++) {
      for (let x = 1; x < 28; x++) {
        expect(out[y * 28 + x]).toBeCloseTo(images[4 * 784 + (y - 1) * 28 + (x - 1)] / 255, 6)
      }
    }
    for (let i = 0; i < 28; i++) {
      expect(out[i]).toBe(0) // top row zero-filled
      expect(out[i * 28]).toBe(0) // left column zero-filled
    }
  })

  it('random shifts move the centre of mass by at most the shift bound; rotation keeps mass centred', () => {
    const rng = createRng(11)
    for (let i = 0; i < 10; i++) {
      const before = centreOfMass(images.subarray(i * 784, (i + 1) * 784), 28, 28)
      const out = augmentBatch(images, [i], { enabled: true, rotation: 0, zoom: 0, shift: 2 }, rng)
      const after = centreOfMass(out, 28, 28)
      expect(Math.abs(after.x - before.x)).toBeLessThanOrEqual(2 + 1e-6)
      expect(Math.abs(after.y - before.y)).toBeLessThanOrEqual(2 + 1e-6)
    }
    // A centred blob rotated about the image centre keeps its centre of mass.
    const blob = new Uint8Array(784)
    for (let y = 11; y <= 16; y++) for (let x = 11; x <= 16; x++) blob[y * 28 + x] = 255
    const rotated = augmentBatch(
      blob,
      [0],
      { enabled: true, rotation: 40, zoom: 0, shift: 0 },
      fixedRng([0.9]),
    )
    const com = centreOfMass(rotated, 28, 28)
    expect(com.x).toBeCloseTo(13.5, 1)
    expect(com.y).toBeCloseTo(13.5, 1)
    expect(Array.from(rotated)).not.toEqual(Array.from(blob).map((v) => v / 255))
  })

  it('rejects indices outside the store', () => {
    expect(() => augmentBatch(images, [10], OFF, createRng(1))).toThrow(RangeError)
  })
})
