import { IMAGE_PIXELS, IMAGE_SIZE, type GrayImage } from './types'

/** Side of the box the ink is scaled to fit in (MNIST convention). */
export const FIT_BOX = 20
/** Where the centre of mass lands, in pixel indices (MNIST digits average (14.0, 14.0)). */
export const MASS_CENTRE = IMAGE_SIZE / 2
/** Background levels at or above this (after measuring the frame) mean paper is light: invert. */
const LIGHT_PAPER = 176
/** Background levels at or below this mean the image is already light ink on dark. */
const DARK_PAPER = 80
/** Minimum noise allowance above the background level, in gray levels. */
const MIN_NOISE = 10
/** Noise allowance in robust standard deviations of the frame pixels. */
const NOISE_SIGMAS = 3
/** Ink fainter than this fraction of the strongest ink is treated as paper texture or shading. */
const RELATIVE_FLOOR = 0.1
/** The strongest ink must differ from the paper by at least this many gray levels. */
const MIN_INK_CONTRAST = 32
/** Connected ink blobs holding less than this fraction of all ink are specks (dust, noise). */
const SPECK_FRACTION = 0.01

/** Result of preprocessing: a 28x28 MNIST-style sample, or zeros with `empty` when there is no ink. */
export interface Preprocessed {
  /** 784 bytes, white ink on black, ink bounding box fitted in 20x20, centred by mass. */
  pixels: Uint8Array
  empty: boolean
}

/** Median of a 256-bin histogram holding `total` values. */
function histogramMedian(hist: Uint32Array, total: number): number {
  const half = total / 2
  let seen = 0
  for (let v = 0; v < 256; v++) {
    seen += hist[v]
    if (seen >= half) return v
  }
  return 255
}

/** Visits the pixels of the outer frame (thickness grows with the image so large photos get a band). */
function forEachFramePixel(img: GrayImage, visit: (value: number) => void): void {
  const { width, height, data } = img
  const band = Math.max(1, Math.floor(Math.min(width, height) / 32))
  for (let y = 0; y < height; y++) {
    const edgeRow = y < band || y >= height - band
    const row = y * width
    if (edgeRow) {
      for (let x = 0; x < width; x++) visit(data[row + x])
    } else {
      for (let x = 0; x < Math.min(band, width); x++) visit(data[row + x])
      for (let x = Math.max(band, width - band); x < width; x++) visit(data[row + x])
    }
  }
}

/** Paper level and noise of the frame: median and a robust standard deviation (1.4826 * MAD). */
function measureFrame(img: GrayImage): { level: number; sigma: number } {
  const hist = new Uint32Array(256)
  let total = 0
  forEachFramePixel(img, (v) => {
    hist[v]++
    total++
  })
  const level = histogramMedian(hist, total)
  const dev = new Uint32Array(256)
  for (let v = 0; v < 256; v++) dev[Math.abs(v - level)] += hist[v]
  return { level, sigma: 1.4826 * histogramMedian(dev, total) }
}

/**
 * Decides whether ink is darker than the paper. Clearly light or dark paper decides alone; for mid-gray
 * paper, the side of the paper level that holds more deviating mass is the ink.
 */
function inkIsDark(img: GrayImage, level: number, noise: number): boolean {
  if (level >= LIGHT_PAPER) return true
  if (level <= DARK_PAPER) return false
  let darker = 0
  let lighter = 0
  const { data } = img
  for (let i = 0; i < data.length; i++) {
    const d = data[i] - level
    if (d < -noise) darker -= d + noise
    else if (d > noise) lighter += d - noise
  }
  return darker > lighter
}

/** Zeroes 8-connected blobs of ink that hold less than SPECK_FRACTION of the total ink. */
function removeSpecks(ink: Uint8Array, width: number, height: number, totalMass: number): void {
  const minMass = totalMass * SPECK_FRACTION
  const seen = new Uint8Array(ink.length)
  const stack = new Int32Array(ink.length)
  const members: number[] = []
  for (let start = 0; start < ink.length; start++) {
    if (ink[start] === 0 || seen[start]) continue
    let top = 0
    let mass = 0
    members.length = 0
    stack[top++] = start
    seen[start] = 1
    while (top > 0) {
      const p = stack[--top]
      members.push(p)
      mass += ink[p]
      const x = p % width
      const y = (p - x) / width
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy
        if (ny < 0 || ny >= height) continue
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx
          if (nx < 0 || nx >= width) continue
          const q = ny * width + nx
          if (ink[q] !== 0 && !seen[q]) {
            seen[q] = 1
            stack[top++] = q
          }
        }
      }
    }
    if (mass < minMass) for (const p of members) ink[p] = 0
  }
}

/** Source taps for one output sample along one axis. */
interface Taps {
  start: Int32Array
  count: Int32Array
  weights: Float32Array
  maxTaps: number
}

/**
 * Resampling weights along one axis: area averaging (box filter with fractional coverage) when
 * shrinking, bilinear (pixel-centre aligned, edges clamped) when enlarging or keeping the size.
 */
function axisTaps(srcLen: number, dstLen: number): Taps {
  const ratio = srcLen / dstLen
  const maxTaps = ratio > 1 ? Math.ceil(ratio) + 1 : 2
  const start = new Int32Array(dstLen)
  const count = new Int32Array(dstLen)
  const weights = new Float32Array(dstLen * maxTaps)
  for (let j = 0; j < dstLen; j++) {
    if (ratio > 1) {
      const from = j * ratio
      const to = Math.min(srcLen, (j + 1) * ratio)
      const first = Math.floor(from)
      const last = Math.min(srcLen - 1, Math.ceil(to) - 1)
      start[j] = first
      count[j] = last - first + 1
      for (let k = first; k <= last; k++) {
        const overlap = Math.min(to, k + 1) - Math.max(from, k)
        weights[j * maxTaps + (k - first)] = overlap / ratio
      }
    } else {
      const s = Math.min(Math.max((j + 0.5) * ratio - 0.5, 0), srcLen - 1)
      const k0 = Math.floor(s)
      const f = s - k0
      start[j] = k0
      count[j] = k0 + 1 < srcLen ? 2 : 1
      weights[j * maxTaps] = count[j] === 2 ? 1 - f : 1
      if (count[j] === 2) weights[j * maxTaps + 1] = f
    }
  }
  return { start, count, weights, maxTaps }
}

/** Resizes a w x h region of `src` (row stride `stride`, origin `offset`) to dw x dh floats. */
function resize(
  src: Uint8Array,
  offset: number,
  stride: number,
  w: number,
  h: number,
  dw: number,
  dh: number,
): Float32Array {
  const tx = axisTaps(w, dw)
  const ty = axisTaps(h, dh)
  const rows = new Float32Array(h * dw)
  for (let y = 0; y < h; y++) {
    const row = offset + y * stride
    for (let j = 0; j < dw; j++) {
      let sum = 0
      const base = j * tx.maxTaps
      const first = row + tx.start[j]
      for (let t = 0; t < tx.count[j]; t++) sum += src[first + t] * tx.weights[base + t]
      rows[y * dw + j] = sum
    }
  }
  const out = new Float32Array(dw * dh)
  for (let i = 0; i < dh; i++) {
    const base = i * ty.maxTaps
    for (let t = 0; t < ty.count[i]; t++) {
      const weight = ty.weights[base + t]
      const srcRow = (ty.start[i] + t) * dw
      for (let j = 0; j < dw; j++) out[i * dw + j] += rows[srcRow + j] * weight
    }
  }
  return out
}

/**
 * The one pipeline for every image that becomes a sample (imported files, drawn input, files to
 * classify): detect dark-on-light and invert so ink is bright, remove the paper level and noise, drop
 * specks, crop to the ink, fit in 20x20 keeping the aspect ratio (area averaging down, bilinear up),
 * paste into 28x28 with the centre of mass at (14, 14), and stretch the ink to a peak of 255.
 */
export function preprocess(img: GrayImage): Preprocessed {
  const { width, height, data } = img
  if (!(width > 0 && height > 0) || data.length !== width * height) {
    throw new RangeError(
      `preprocess: ${width}x${height} image needs ${width * height} bytes, got ${data.length}`,
    )
  }
  const empty = (): Preprocessed => ({ pixels: new Uint8Array(IMAGE_PIXELS), empty: true })

  const frame = measureFrame(img)
  const noise = Math.max(MIN_NOISE, NOISE_SIGMAS * frame.sigma)
  const invert = inkIsDark(img, frame.level, noise)
  const paper = invert ? 255 - frame.level : frame.level

  // Ink strength above the paper level, ink bright.
  const ink = new Uint8Array(data.length)
  let peak = 0
  for (let i = 0; i < data.length; i++) {
    const v = (invert ? 255 - data[i] : data[i]) - paper
    if (v > 0) {
      ink[i] = v
      if (v > peak) peak = v
    }
  }
  if (peak < MIN_INK_CONTRAST) return empty()
  const floor = Math.max(noise, RELATIVE_FLOOR * peak)
  let mass = 0
  for (let i = 0; i < ink.length; i++) {
    const v = ink[i] - floor
    ink[i] = v > 0 ? Math.round(v) : 0
    mass += ink[i]
  }
  if (mass === 0) return empty()
  removeSpecks(ink, width, height, mass)

  // Bounding box of the remaining ink.
  let x0 = width
  let y0 = height
  let x1 = -1
  let y1 = -1
  for (let y = 0; y < height; y++) {
    const row = y * width
    for (let x = 0; x < width; x++) {
      if (ink[row + x] !== 0) {
        if (x < x0) x0 = x
        if (x > x1) x1 = x
        if (y < y0) y0 = y
        y1 = y
      }
    }
  }
  if (x1 < 0) return empty()
  const boxW = x1 - x0 + 1
  const boxH = y1 - y0 + 1
  const scale = FIT_BOX / Math.max(boxW, boxH)
  const fitW = Math.min(FIT_BOX, Math.max(1, Math.round(boxW * scale)))
  const fitH = Math.min(FIT_BOX, Math.max(1, Math.round(boxH * scale)))
  const fitted = resize(ink, y0 * width + x0, width, boxW, boxH, fitW, fitH)

  // Centre of mass of the fitted glyph, then an integer shift that puts it at MASS_CENTRE.
  let total = 0
  let sumX = 0
  let sumY = 0
  let top = 0
  for (let y = 0; y < fitH; y++) {
    for (let x = 0; x < fitW; x++) {
      const v = fitted[y * fitW + x]
      total += v
      sumX += v * x
      sumY += v * y
      if (v > top) top = v
    }
  }
  if (total <= 0 || top <= 0) return empty()
  const clamp = (v: number, max: number): number => Math.min(Math.max(v, 0), max)
  const offX = clamp(Math.round(MASS_CENTRE - sumX / total), IMAGE_SIZE - fitW)
  const offY = clamp(Math.round(MASS_CENTRE - sumY / total), IMAGE_SIZE - fitH)

  const pixels = new Uint8Array(IMAGE_PIXELS)
  const gain = 255 / top
  for (let y = 0; y < fitH; y++) {
    for (let x = 0; x < fitW; x++) {
      pixels[(y + offY) * IMAGE_SIZE + x + offX] = Math.round(fitted[y * fitW + x] * gain)
    }
  }
  return { pixels, empty: false }
}
