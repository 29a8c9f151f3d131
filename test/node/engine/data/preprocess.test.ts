import { describe, expect, it } from 'vitest'

import { loadBuiltinMnist } from '@engine/data/mnistBuiltin'
import { preprocess } from '@engine/data/preprocess'
import { createRng } from '@engine/data/rng'

import { centreOfMass, correlation, drawGlyph, GLYPH_FOUR, inkBox } from './helpers'

function expectMnistShape(pixels: Uint8Array): void {
  expect(pixels.length).toBe(784)
  expect(Math.max(...pixels)).toBe(255)
  const box = inkBox(pixels, 28, 28)
  expect(box).toBeDefined()
  // The fitted glyph is at most 20x20 (one pixel of antialias spill allowed) and fills the box.
  expect(Math.max(box!.w, box!.h)).toBeLessThanOrEqual(21)
  expect(Math.max(box!.w, box!.h)).toBeGreaterThanOrEqual(19)
  const com = centreOfMass(pixels, 28, 28)
  expect(Math.abs(com.x - 14)).toBeLessThanOrEqual(1)
  expect(Math.abs(com.y - 14)).toBeLessThanOrEqual(1)
}

describe('preprocess', () => {
  const darkOnLight = drawGlyph({
    width: 120,
    height: 160,
    strokes: GLYPH_FOUR,
    thickness: 10,
    ink: 0,
    paper: 255,
  })

  it('turns a dark-on-light drawing into a bright glyph fitted in 20x20 and centred by mass', () => {
    const { pixels, empty } = preprocess(darkOnLight)
    expect(empty).toBe(false)
    expectMnistShape(pixels)
    // Polarity: background is black, i.e. the corners are 0.
    expect(pixels[0]).toBe(0)
    expect(pixels[783]).toBe(0)
  })

  it('gives the same result for black-on-white and white-on-black versions of a glyph', () => {
    const inverted = { ...darkOnLight, data: darkOnLight.data.map((v) => 255 - v) }
    const a = preprocess(darkOnLight).pixels
    const b = preprocess(inverted).pixels
    let maxDiff = 0
    for (let i = 0; i < 784; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]))
    expect(maxDiff).toBeLessThanOrEqual(1)
  })

  it('keeps the aspect ratio: a tall glyph is 20 high and narrower', () => {
    const bar = drawGlyph({
      width: 100,
      height: 300,
      strokes: [[0.5, 0.1, 0.5, 0.9]],
      thickness: 30,
      ink: 0,
      paper: 255,
    })
    const box = inkBox(preprocess(bar).pixels, 28, 28)!
    expect(box.h).toBe(20)
    // Ink is 30 px wide and 270 px tall (240 + two 15 px caps): 30 * 20/270 -> 2 or 3 px.
    expect(box.w).toBeGreaterThanOrEqual(2)
    expect(box.w).toBeLessThanOrEqual(4)
  })

  it('handles a 2000x1500 photo-like image with noise, shading and dust quickly', () => {
    const clean = drawGlyph({
      width: 2000,
      height: 1500,
      strokes: GLYPH_FOUR,
      thickness: 60,
      ink: 40,
      paper: 215,
      box: { x: 600, y: 250, w: 800, h: 1000 },
    })
    const rng = createRng(1)
    const noisy = new Uint8Array(clean.data.length)
    for (let y = 0; y < 1500; y++) {
      for (let x = 0; x < 2000; x++) {
        const i = y * 2000 + x
        const shading = 15 * (x / 2000) // uneven lighting
        const grain = (rng.next() - 0.5) * 16
        noisy[i] = Math.max(0, Math.min(255, Math.round(clean.data[i] + shading + grain)))
      }
    }
    // A dust speck far from the glyph must not stretch the bounding box.
    for (let y = 100; y < 106; y++) for (let x = 100; x < 106; x++) noisy[y * 2000 + x] = 60
    const started = performance.now()
    const result = preprocess({ width: 2000, height: 1500, data: noisy })
    const ms = performance.now() - started
    expect(ms).toBeLessThan(2000)
    expect(result.empty).toBe(false)
    expectMnistShape(result.pixels)
    const reference = preprocess(
      drawGlyph({ width: 200, height: 250, strokes: GLYPH_FOUR, thickness: 6, ink: 0, paper: 255 }),
    )
    expect(correlation(result.pixels, reference.pixels)).toBeGreaterThan(0.9)
  })

  it('enlarges a tiny glyph to the 20x20 box', () => {
    const tiny = drawGlyph({
      width: 6,
      height: 8,
      strokes: GLYPH_FOUR,
      thickness: 1.5,
      ink: 0,
      paper: 255,
    })
    const { pixels, empty } = preprocess(tiny)
    expect(empty).toBe(false)
    expectMnistShape(pixels)
  })

  it('reads dark ink on mid-gray paper correctly (polarity from where the ink mass is)', () => {
    const gray = drawGlyph({
      width: 80,
      height: 100,
      strokes: GLYPH_FOUR,
      thickness: 7,
      ink: 20,
      paper: 130,
    })
    const light = drawGlyph({
      width: 80,
      height: 100,
      strokes: GLYPH_FOUR,
      thickness: 7,
      ink: 0,
      paper: 255,
    })
    expect(correlation(preprocess(gray).pixels, preprocess(light).pixels)).toBeGreaterThan(0.98)
  })

  it('reports blank images (white, black, noisy paper) as empty zeros', () => {
    const rng = createRng(3)
    const blanks = [
      new Uint8Array(400).fill(255),
      new Uint8Array(400).fill(0),
      new Uint8Array(400).map(() => 230 + Math.round((rng.next() - 0.5) * 10)),
    ]
    for (const data of blanks) {
      const { pixels, empty } = preprocess({ width: 20, height: 20, data })
      expect(empty).toBe(true)
      expect(pixels.every((v) => v === 0)).toBe(true)
    }
  })

  it('passes real MNIST digits through nearly unchanged', async () => {
    const mnist = await loadBuiltinMnist()
    const test = mnist.test!
    const correlations: number[] = []
    for (let i = 0; i < 200; i++) {
      const digit = test.images.subarray(i * 784, (i + 1) * 784)
      const out = preprocess({ width: 28, height: 28, data: digit })
      expect(out.empty).toBe(false)
      correlations.push(correlation(digit, out.pixels))
    }
    correlations.sort((a, b) => a - b)
    expect(correlations[0]).toBeGreaterThan(0.5) // worst case: a thin "1" moved by one pixel
    expect(correlations[100]).toBeGreaterThan(0.98) // median
    expect(correlations.reduce((a, b) => a + b) / correlations.length).toBeGreaterThan(0.95)
  })

  it('rejects inconsistent image buffers', () => {
    expect(() => preprocess({ width: 3, height: 3, data: new Uint8Array(8) })).toThrow(RangeError)
  })
})
