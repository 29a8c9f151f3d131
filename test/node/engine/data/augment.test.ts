import { describe, expect, it } from 'vitest'

import { augmentBatch, changeThickness, RANDOMS_PER_SAMPLE } from '@engine/data/augment'
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

  it('keeps the shape of the samples flagged as drawn, changing only their stroke width', () => {
    const on = { enabled: true, rotation: 15, zoom: 0.15, shift: 2, shear: 10, elastic: 1 }
    const idx = [6, 2, 7]
    const asDrawn = Uint8Array.from({ length: 10 }, (_, i) => (i === 2 ? 1 : 0))
    const row = (out: Float32Array, r: number) => Array.from(out.subarray(r * 784, (r + 1) * 784))
    const plain = augmentBatch(images, idx, OFF, createRng(3))
    // Without a thickness range the flagged sample is exactly as drawn.
    const kept = augmentBatch(images, idx, on, createRng(3), asDrawn)
    const augmented = augmentBatch(images, idx, on, createRng(3))
    expect(row(kept, 1), 'sample 2 as drawn').toEqual(row(plain, 1))
    expect(row(augmented, 1)).not.toEqual(row(plain, 1))
    expect(row(kept, 0)).toEqual(row(augmented, 0))
    expect(row(kept, 2), 'the stream goes on as without the flag').toEqual(row(augmented, 2))
    // With one, it gets the width change that same draw gives, and nothing else.
    const inked = augmentBatch(images, idx, { ...on, thickness: 1.5 }, createRng(3), asDrawn)
    const widthOnly = augmentBatch(
      images,
      idx,
      { enabled: true, rotation: 0, zoom: 0, shift: 0, shear: 0, thickness: 1.5, elastic: 0 },
      createRng(3),
    )
    expect(row(inked, 1), 'sample 2 at another stroke width').toEqual(row(widthOnly, 1))
    expect(row(inked, 1)).not.toEqual(row(plain, 1))
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

  /** A vertical bar 2 px wide (columns 13-14, rows 6-21) at full ink. */
  function bar(): Uint8Array {
    const img = new Uint8Array(784)
    for (let y = 6; y <= 21; y++) for (let x = 13; x <= 14; x++) img[y * 28 + x] = 255
    return img
  }
  const ink = (img: ArrayLike<number>): number => Array.from(img).reduce((a, b) => a + b, 0)
  const ONLY = { enabled: true, rotation: 0, zoom: 0, shift: 0, shear: 0, thickness: 0, elastic: 0 }

  it('shear slants a vertical bar: the top leans one way, the bottom the other', () => {
    // next() = 1: shear at the top of its range (+20 degrees), every other range is 0.
    const out = augmentBatch(bar(), [0], { ...ONLY, shear: 20 }, fixedRng([1]))
    const rowCentre = (y: number): number => {
      let m = 0
      let s = 0
      for (let x = 0; x < 28; x++) {
        m += out[y * 28 + x]
        s += out[y * 28 + x] * x
      }
      return s / m
    }
    const lean = rowCentre(20) - rowCentre(7)
    // x' = x + tan(20deg) * (y - 13.5): 13 rows apart lean by about 13 * 0.364 = 4.7 px.
    expect(lean).toBeCloseTo(13 * Math.tan((20 * Math.PI) / 180), 0)
    expect(ink(out)).toBeCloseTo(ink(bar()) / 255, -1)
  })

  it('thickness dilates by whole and fractional pixels, and erodes by at most one', () => {
    const src = Float32Array.from(bar(), (v) => v / 255)
    const thick = changeThickness(Float32Array.from(src), new Float32Array(784), 1)
    // One step of 4-neighbour dilation: 2 -> 4 columns wide, one more row at each end.
    expect(thick[13 * 28 + 12]).toBe(1)
    expect(thick[13 * 28 + 15]).toBe(1)
    expect(thick[13 * 28 + 11]).toBe(0)
    expect(thick[5 * 28 + 13]).toBe(1)
    const half = changeThickness(Float32Array.from(src), new Float32Array(784), 0.5)
    expect(half[13 * 28 + 12]).toBeCloseTo(0.5, 6)
    const thinner = changeThickness(Float32Array.from(src), new Float32Array(784), -0.5)
    expect(thinner[13 * 28 + 13]).toBeCloseTo(0.5, 6)
    expect(thinner[13 * 28 + 12]).toBe(0)
    // Through augmentBatch: next() = 1 is the top of [-1, 3], next() = 0 the bottom (erode 1 px).
    const fat = augmentBatch(bar(), [0], { ...ONLY, thickness: 3 }, fixedRng([1]))
    expect(ink(fat)).toBeGreaterThan((ink(bar()) / 255) * 3)
    const thin = augmentBatch(bar(), [0], { ...ONLY, thickness: 3 }, fixedRng([0]))
    expect(ink(thin)).toBe(0) // a 2 px bar eroded by 1 px from both sides is gone
  })

  it('elastic distortion moves ink smoothly and no further than its amplitude', () => {
    const src = bar()
    const out = augmentBatch(src, [0], { ...ONLY, elastic: 2 }, createRng(3))
    expect(Array.from(out)).not.toEqual(Array.from(src, (v) => v / 255))
    const before = centreOfMass(src, 28, 28)
    const after = centreOfMass(out, 28, 28)
    expect(Math.abs(after.x - before.x)).toBeLessThanOrEqual(2)
    expect(Math.abs(after.y - before.y)).toBeLessThanOrEqual(2)
    // Smooth: the bar stays one connected band in every row it covers (no torn pixels).
    for (let y = 9; y <= 18; y++) {
      const lit = Array.from({ length: 28 }, (_, x) => out[y * 28 + x] > 0.05)
      const runs = lit.filter((v, x) => v && !lit[x - 1]).length
      expect(runs).toBe(1)
    }
  })

  it('consumes the same random numbers whatever the ranges, so runs stay comparable', () => {
    const counting = (): { rng: Rng; used: () => number } => {
      let n = 0
      const base = createRng(1)
      return { rng: { ...base, next: () => (n++, base.next()) }, used: () => n }
    }
    for (const opts of [ONLY, { ...ONLY, elastic: 2, thickness: 1, shear: 10 }]) {
      const c = counting()
      augmentBatch(images, [0, 1, 2], opts, c.rng)
      expect(c.used()).toBe(3 * RANDOMS_PER_SAMPLE)
    }
  })

  it('rejects indices outside the store', () => {
    expect(() => augmentBatch(images, [10], OFF, createRng(1))).toThrow(RangeError)
  })
})
