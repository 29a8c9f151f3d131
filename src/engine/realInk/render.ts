import {
  PAD_SEND_SIZE,
  PAD_SIZE,
  PAD_STROKE_WIDTH,
  rasterizeInk,
  rasterizeStrokes,
  type Stroke,
} from '@shared/ink/strokes'
import sharp from 'sharp'

import { createRng, type Rng } from '../data/rng'
import type { GrayImage } from '../data/types'
import type { PenPoint, PenSample } from './trajectories'

/** How a pen sample is turned into what a user would give InkLab. */
export type InkRendering = 'pad' | 'scan'

/** The drawing-pad rendering: where and how large a person draws, with which stroke width. */
export const PAD_RENDER = {
  /** The character's larger side as a fraction of the pad. */
  size: [0.25, 0.9],
  /** Share of drawings made at the pad's initial stroke width; the rest pick one from the slider. */
  initialWidthShare: 0.5,
} as const

/** The scan rendering: dark ink on light paper, then blur and a JPEG or PNG file. */
export const SCAN_RENDER = {
  /** Image side in pixels, log-uniform. */
  side: [28, 1000],
  /** Height / width of the image. */
  aspect: [0.75, 1.33],
  /** The character's larger side as a fraction of the image's smaller side. */
  size: [0.35, 0.9],
  /** Stroke width as a fraction of the character's larger side: thin to thick. */
  strokeWidth: [0.025, 0.16],
  ink: [0, 90],
  paper: [175, 255],
  /** Gaussian paper noise, in gray levels (standard deviation). */
  noise: [0, 6],
  /** Blur sigma as a fraction of the character's larger side (0 half the time). */
  blur: [0, 0.025],
  /** JPEG quality (half the scans; the others are PNG). */
  jpegQuality: [40, 95],
} as const

/** A per-sample random stream: the same seed and index always draw the same rendering. */
export function sampleRng(seed: number, index: number, salt = 0): Rng {
  return createRng(((seed ^ Math.imul(index + 1, 0x9e3779b1)) + Math.imul(salt, 0x85ebca6b)) >>> 0)
}

function uniform(rng: Rng, [lo, hi]: readonly [number, number]): number {
  return lo + (hi - lo) * rng.next()
}

/** Bounding box of a sample's points. */
function bounds(strokes: readonly PenPoint[][]): { x: number; y: number; w: number; h: number } {
  let x0 = Infinity
  let y0 = Infinity
  let x1 = -Infinity
  let y1 = -Infinity
  for (const stroke of strokes) {
    for (const p of stroke) {
      if (p.x < x0) x0 = p.x
      if (p.x > x1) x1 = p.x
      if (p.y < y0) y0 = p.y
      if (p.y > y1) y1 = p.y
    }
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
}

/**
 * The sample's strokes, `width` wide, scaled so that its larger side is `size` units and placed at
 * random where it fits inside `room`.
 */
function placeStrokes(
  sample: PenSample,
  size: number,
  room: { w: number; h: number },
  width: number,
  rng: Rng,
): Stroke[] {
  const box = bounds(sample.strokes)
  const scale = size / Math.max(box.w, box.h, 1e-6)
  const w = box.w * scale
  const h = box.h * scale
  const left = width / 2 + rng.next() * Math.max(0, room.w - w - width)
  const top = width / 2 + rng.next() * Math.max(0, room.h - h - width)
  return sample.strokes.map((points) => ({
    width,
    points: points.map((p) => ({
      x: left + (p.x - box.x) * scale,
      y: top + (p.y - box.y) * scale,
      w: 1,
    })),
  }))
}

/**
 * The sample drawn on the pad as a person would: somewhere on it, at some size, with the pad's
 * stroke width (its initial one, or one from its slider), rasterised by the pad's own code.
 */
export function renderPad(sample: PenSample, rng: Rng): { strokes: Stroke[]; image: GrayImage } {
  const size = uniform(rng, PAD_RENDER.size) * PAD_SIZE
  const width =
    rng.next() < PAD_RENDER.initialWidthShare
      ? PAD_STROKE_WIDTH.initial
      : Math.round(uniform(rng, [PAD_STROKE_WIDTH.min, PAD_STROKE_WIDTH.max]))
  const strokes = placeStrokes(sample, size, { w: PAD_SIZE, h: PAD_SIZE }, width, rng)
  const data = rasterizeStrokes(strokes, PAD_SIZE, PAD_SEND_SIZE)
  return { strokes, image: { width: PAD_SEND_SIZE, height: PAD_SEND_SIZE, data } }
}

/** A rendered scan: the bytes of an image file and what went into it. */
export interface ScanFile {
  bytes: Buffer
  format: 'png' | 'jpeg'
  width: number
  height: number
}

/**
 * The sample as a scan or photo of paper: dark ink on light paper, 28 to 1000 px, anywhere on the
 * page, thin to thick strokes, paper noise, blur, saved as JPEG or PNG.
 */
export async function renderScan(sample: PenSample, rng: Rng): Promise<ScanFile> {
  const side = Math.round(
    Math.exp(uniform(rng, [Math.log(SCAN_RENDER.side[0]), Math.log(SCAN_RENDER.side[1])])),
  )
  const aspect = uniform(rng, SCAN_RENDER.aspect)
  const width = aspect >= 1 ? side : Math.max(SCAN_RENDER.side[0], Math.round(side * aspect))
  const height = aspect >= 1 ? Math.max(SCAN_RENDER.side[0], Math.round(side / aspect)) : side
  const size = uniform(rng, SCAN_RENDER.size) * Math.min(width, height)
  const strokeWidth = Math.max(1, uniform(rng, SCAN_RENDER.strokeWidth) * size)
  const ink = Math.round(uniform(rng, SCAN_RENDER.ink))
  const paper = Math.round(uniform(rng, SCAN_RENDER.paper))
  const noise = uniform(rng, SCAN_RENDER.noise)
  const blur = rng.next() < 0.5 ? 0 : uniform(rng, SCAN_RENDER.blur) * size
  const jpeg = rng.next() < 0.5
  const quality = Math.round(uniform(rng, SCAN_RENDER.jpegQuality))
  const strokes = placeStrokes(sample, size, { w: width, h: height }, strokeWidth, rng)
  const data = rasterizeInk(strokes, { width, height, scale: 1, ink, paper })
  if (noise > 0) {
    for (let i = 0; i < data.length; i++) {
      // Sum of three uniforms: close enough to Gaussian, cheap and seeded.
      const g = (rng.next() + rng.next() + rng.next() - 1.5) * 2
      data[i] = Math.max(0, Math.min(255, Math.round(data[i]! + g * noise)))
    }
  }
  let image = sharp(Buffer.from(data.buffer, data.byteOffset, data.length), {
    raw: { width, height, channels: 1 },
  })
  if (blur >= 0.3) image = image.blur(blur)
  const bytes = jpeg
    ? await image.jpeg({ quality }).toBuffer()
    : await image.png({ compressionLevel: 1 }).toBuffer()
  return { bytes, format: jpeg ? 'jpeg' : 'png', width, height }
}
