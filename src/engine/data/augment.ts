import type { Augmentation } from '@shared/schemas/training'

import type { Rng } from './rng'
import { IMAGE_PIXELS, IMAGE_SIZE } from './types'

const INV_255 = 1 / 255
/** Images rotate and scale about the centre between the middle pixels (pixel i is centred at i). */
const CENTRE = (IMAGE_SIZE - 1) / 2
/** Control points per side of the elastic displacement grid (bilinearly interpolated between). */
const ELASTIC_GRID = 4
/** Erosion never goes beyond one pixel: thinner MNIST-like strokes would vanish. */
const MAX_EROSION = 1
/** Random numbers one enabled sample consumes, whatever its ranges (see `augmentBatch`). */
export const RANDOMS_PER_SAMPLE = 6 + 2 * ELASTIC_GRID * ELASTIC_GRID

/** The augmentation switches as the schema fills them in, older configs included. */
type AugmentationRanges = Pick<Augmentation, 'enabled' | 'rotation' | 'zoom' | 'shift'> &
  Partial<Pick<Augmentation, 'shear' | 'thickness' | 'elastic'>>

/** Draws a value uniform in [-range, range]; always consumes one random number for determinism. */
function symmetric(rng: Rng, range: number): number {
  return (rng.next() * 2 - 1) * range
}

/**
 * One step of grayscale dilation (max) or erosion (min) over the pixel and its 4 neighbours,
 * blended with the input by `amount` in [0, 1]. Edges are padded with zero ink.
 */
function morphStep(src: Float32Array, dst: Float32Array, dilate: boolean, amount: number): void {
  const n = IMAGE_SIZE
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = y * n + x
      const c = src[i]!
      const l = x > 0 ? src[i - 1]! : 0
      const r = x < n - 1 ? src[i + 1]! : 0
      const u = y > 0 ? src[i - n]! : 0
      const d = y < n - 1 ? src[i + n]! : 0
      const m = dilate ? Math.max(c, l, r, u, d) : Math.min(c, l, r, u, d)
      dst[i] = c + (m - c) * amount
    }
  }
}

/**
 * Makes strokes thicker (t > 0) or thinner (t < 0) by `|t|` pixels: whole dilation/erosion steps,
 * the fraction blended. Works in place on `img` with `scratch` as the second buffer; returns the
 * buffer holding the result.
 */
export function changeThickness(img: Float32Array, scratch: Float32Array, t: number): Float32Array {
  let src = img
  let dst = scratch
  let left = Math.abs(t)
  while (left > 1e-6) {
    morphStep(src, dst, t > 0, Math.min(1, left))
    left -= 1
    ;[src, dst] = [dst, src]
  }
  return src
}

/** A smooth random displacement field: control points in [-amp, amp], bilinear in between. */
function elasticField(rng: Rng, amp: number, dx: Float32Array, dy: Float32Array): void {
  const g = ELASTIC_GRID
  const cx = new Float32Array(g * g)
  const cy = new Float32Array(g * g)
  for (let k = 0; k < g * g; k++) {
    cx[k] = symmetric(rng, amp)
    cy[k] = symmetric(rng, amp)
  }
  const step = (IMAGE_SIZE - 1) / (g - 1)
  for (let y = 0; y < IMAGE_SIZE; y++) {
    const gy = Math.min(g - 2, Math.floor(y / step))
    const fy = y / step - gy
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const gx = Math.min(g - 2, Math.floor(x / step))
      const fx = x / step - gx
      const k = gy * g + gx
      const lerp2 = (c: Float32Array): number => {
        const top = c[k]! + (c[k + 1]! - c[k]!) * fx
        const bottom = c[k + g]! + (c[k + g + 1]! - c[k + g]!) * fx
        return top + (bottom - top) * fy
      }
      dx[y * IMAGE_SIZE + x] = lerp2(cx)
      dy[y * IMAGE_SIZE + x] = lerp2(cy)
    }
  }
}

/** Bilinear sample of a 28x28 float image at (sx, sy), zero outside. */
function sampleAt(img: Float32Array, sx: number, sy: number): number {
  if (!(sx > -1 && sy > -1 && sx < IMAGE_SIZE && sy < IMAGE_SIZE)) return 0
  const last = IMAGE_SIZE - 1
  const x0 = Math.floor(sx)
  const y0 = Math.floor(sy)
  const fx = sx - x0
  const fy = sy - y0
  const inX0 = x0 >= 0
  const inX1 = x0 + 1 <= last
  const inY0 = y0 >= 0
  const inY1 = y0 + 1 <= last
  const row0 = y0 * IMAGE_SIZE
  const row1 = row0 + IMAGE_SIZE
  const p00 = inY0 && inX0 ? img[row0 + x0]! : 0
  const p10 = inY0 && inX1 ? img[row0 + x0 + 1]! : 0
  const p01 = inY1 && inX0 ? img[row1 + x0]! : 0
  const p11 = inY1 && inX1 ? img[row1 + x0 + 1]! : 0
  const top = p00 + (p10 - p00) * fx
  const bottom = p01 + (p11 - p01) * fx
  return top + (bottom - top) * fy
}

/** The drawn parameters of one sample's transform. */
interface SampleTransform {
  angle: number
  scale: number
  shear: number
  dx: number
  dy: number
  thickness: number
  elastic: number
}

/** No change of shape: what a sample kept as drawn is transformed by, but for its stroke width. */
const AS_DRAWN: SampleTransform = {
  angle: 0,
  scale: 1,
  shear: 0,
  dx: 0,
  dy: 0,
  thickness: 0,
  elastic: 0,
}

/**
 * Writes one transformed sample into `out` at `outOffset`. Source to output: thicken or thin the
 * strokes, shear horizontally, scale, rotate about the centre, shift by (dx, dy), then displace by
 * the elastic field; each output pixel samples the source through the inverse map (bilinear).
 */
function transformSample(
  src: Float32Array,
  scratch: Float32Array,
  field: { dx: Float32Array; dy: Float32Array } | null,
  out: Float32Array,
  outOffset: number,
  t: SampleTransform,
): void {
  const img = t.thickness !== 0 ? changeThickness(src, scratch, t.thickness) : src
  // Forward linear part A = R(angle) * scale * [[1, k], [0, 1]]; its inverse maps output to source.
  const k = Math.tan(t.shear)
  const cos = Math.cos(t.angle) / t.scale
  const sin = Math.sin(t.angle) / t.scale
  // R(-angle)/scale = [[cos, sin], [-sin, cos]]; then the inverse shear [[1, -k], [0, 1]].
  const a = cos + k * sin
  const b = sin - k * cos
  const c = -sin
  const d = cos
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const p = y * IMAGE_SIZE + x
      const u = x - CENTRE - t.dx - (field ? field.dx[p]! : 0)
      const v = y - CENTRE - t.dy - (field ? field.dy[p]! : 0)
      out[outOffset + p] = Math.min(
        1,
        sampleAt(img, a * u + b * v + CENTRE, c * u + d * v + CENTRE),
      )
    }
  }
}

/**
 * Builds a training batch: the samples at `indices` of the uint8 image store, scaled to [0, 1], each
 * with a random transform when augmentation is enabled: rotation, zoom, shift, shear, stroke
 * thickness and elastic distortion, each within its range (a zero range leaves that part out).
 * Returns indices.length * 784 floats. Consumes exactly RANDOMS_PER_SAMPLE random numbers per
 * sample when enabled, so a run's stream does not depend on the ranges. A sample whose stored
 * index `asDrawn` flags (a fine-tune's corrections) keeps its shape as drawn and gets only the
 * stroke width change, its other numbers consumed all the same: learnt at one width only, a
 * correction was still misread by the pad, which reads each drawing at several widths.
 */
export function augmentBatch(
  images: Uint8Array,
  indices: ArrayLike<number>,
  opts: AugmentationRanges,
  rng: Rng,
  asDrawn?: Uint8Array,
): Float32Array {
  const count = indices.length
  const out = new Float32Array(count * IMAGE_PIXELS)
  const maxAngle = (opts.rotation * Math.PI) / 180
  const maxShear = ((opts.shear ?? 0) * Math.PI) / 180
  const maxThickness = opts.thickness ?? 0
  const elastic = opts.elastic ?? 0
  const src = new Float32Array(IMAGE_PIXELS)
  const scratch = new Float32Array(IMAGE_PIXELS)
  const field = { dx: new Float32Array(IMAGE_PIXELS), dy: new Float32Array(IMAGE_PIXELS) }
  for (let i = 0; i < count; i++) {
    const from = indices[i]! * IMAGE_PIXELS
    const dst = i * IMAGE_PIXELS
    if (from < 0 || from + IMAGE_PIXELS > images.length) {
      throw new RangeError(`augmentBatch: sample index ${indices[i]} is outside the image store`)
    }
    for (let p = 0; p < IMAGE_PIXELS; p++) src[p] = images[from + p]! * INV_255
    if (!opts.enabled) {
      out.set(src, dst)
      continue
    }
    const t: SampleTransform = {
      angle: symmetric(rng, maxAngle),
      scale: 1 + symmetric(rng, opts.zoom),
      dx: symmetric(rng, opts.shift),
      dy: symmetric(rng, opts.shift),
      shear: symmetric(rng, maxShear),
      // Uniform in [-min(T, 1), T]: thicker as often as the range allows, thinner by at most 1 px.
      thickness:
        -Math.min(maxThickness, MAX_EROSION) +
        rng.next() * (maxThickness + Math.min(maxThickness, MAX_EROSION)),
      elastic,
    }
    const warped = elastic > 0
    if (warped) elasticField(rng, elastic, field.dx, field.dy)
    else for (let r = 0; r < 2 * ELASTIC_GRID * ELASTIC_GRID; r++) rng.next()
    // A fine-tune's correction keeps its shape as drawn, only its stroke width varied (the pad
    // reads a drawing at several widths: TTA_THICKNESS of predict).
    const kept = asDrawn?.[indices[i]!] === 1
    const s = kept ? { ...AS_DRAWN, thickness: t.thickness } : t
    const warp = warped && !kept
    if (
      s.angle === 0 &&
      s.scale === 1 &&
      s.dx === 0 &&
      s.dy === 0 &&
      s.shear === 0 &&
      s.thickness === 0 &&
      !warp
    ) {
      out.set(src, dst)
    } else {
      transformSample(src, scratch, warp ? field : null, out, dst, s)
    }
  }
  return out
}
