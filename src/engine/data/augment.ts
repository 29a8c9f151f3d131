import type { Augmentation } from '@shared/schemas/training'

import type { Rng } from './rng'
import { IMAGE_PIXELS, IMAGE_SIZE } from './types'

const INV_255 = 1 / 255
/** Images rotate and scale about the centre between the middle pixels (pixel i is centred at i). */
const CENTRE = (IMAGE_SIZE - 1) / 2

/** Draws a value uniform in [-range, range]; always consumes one random number for determinism. */
function symmetric(rng: Rng, range: number): number {
  return (rng.next() * 2 - 1) * range
}

/**
 * Writes one affine-transformed 28x28 sample (bilinear sampling, zero fill) into `out` at `outOffset`.
 * The transform maps source to output as: rotate by `angle` and scale by `scale` about the centre, then
 * shift by (dx, dy); each output pixel samples the source through the inverse map.
 */
function warpSample(
  images: Uint8Array,
  srcOffset: number,
  out: Float32Array,
  outOffset: number,
  angle: number,
  scale: number,
  dx: number,
  dy: number,
): void {
  const cos = Math.cos(angle) / scale
  const sin = Math.sin(angle) / scale
  const last = IMAGE_SIZE - 1
  for (let y = 0; y < IMAGE_SIZE; y++) {
    const v = y - CENTRE - dy
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const u = x - CENTRE - dx
      // Inverse rotation: R(-angle) * (u, v) / scale.
      const sx = cos * u + sin * v + CENTRE
      const sy = -sin * u + cos * v + CENTRE
      let value = 0
      if (sx > -1 && sy > -1 && sx < IMAGE_SIZE && sy < IMAGE_SIZE) {
        const x0 = Math.floor(sx)
        const y0 = Math.floor(sy)
        const fx = sx - x0
        const fy = sy - y0
        const row0 = srcOffset + y0 * IMAGE_SIZE
        const row1 = row0 + IMAGE_SIZE
        const inX0 = x0 >= 0
        const inX1 = x0 + 1 <= last
        const inY0 = y0 >= 0
        const inY1 = y0 + 1 <= last
        const p00 = inY0 && inX0 ? images[row0 + x0] : 0
        const p10 = inY0 && inX1 ? images[row0 + x0 + 1] : 0
        const p01 = inY1 && inX0 ? images[row1 + x0] : 0
        const p11 = inY1 && inX1 ? images[row1 + x0 + 1] : 0
        const top = p00 + (p10 - p00) * fx
        const bottom = p01 + (p11 - p01) * fx
        value = (top + (bottom - top) * fy) * INV_255
      }
      out[outOffset + y * IMAGE_SIZE + x] = value
    }
  }
}

/**
 * Builds a training batch: the samples at `indices` of the uint8 image store, scaled to [0, 1], each
 * with a random affine transform (rotation, zoom, shift) when augmentation is enabled.
 * Returns indices.length * 784 floats. Consumes exactly four random numbers per sample when enabled.
 */
export function augmentBatch(
  images: Uint8Array,
  indices: ArrayLike<number>,
  opts: Augmentation,
  rng: Rng,
): Float32Array {
  const count = indices.length
  const out = new Float32Array(count * IMAGE_PIXELS)
  const maxAngle = (opts.rotation * Math.PI) / 180
  for (let i = 0; i < count; i++) {
    const src = indices[i] * IMAGE_PIXELS
    const dst = i * IMAGE_PIXELS
    if (src < 0 || src + IMAGE_PIXELS > images.length) {
      throw new RangeError(`augmentBatch: sample index ${indices[i]} is outside the image store`)
    }
    if (!opts.enabled) {
      for (let p = 0; p < IMAGE_PIXELS; p++) out[dst + p] = images[src + p] * INV_255
      continue
    }
    const angle = symmetric(rng, maxAngle)
    const scale = 1 + symmetric(rng, opts.zoom)
    const dx = symmetric(rng, opts.shift)
    const dy = symmetric(rng, opts.shift)
    if (angle === 0 && scale === 1 && dx === 0 && dy === 0) {
      for (let p = 0; p < IMAGE_PIXELS; p++) out[dst + p] = images[src + p] * INV_255
    } else {
      warpSample(images, src, out, dst, angle, scale, dx, dy)
    }
  }
  return out
}
