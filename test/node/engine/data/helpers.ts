import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Creates a fresh temp folder; call the returned cleanup in afterEach/afterAll. */
export async function makeTempDir(
  prefix = 'inklab-data-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** Deterministic 28x28 test images: sample i has a bright pixel block whose position encodes i. */
export function syntheticImages(count: number): Uint8Array {
  const images = new Uint8Array(count * 784)
  for (let i = 0; i < count; i++) {
    const x = 2 + (i % 20)
    const y = 3 + ((i * 7) % 20)
    for (let dy = 0; dy < 3; dy++) {
      for (let dx = 0; dx < 2; dx++) images[i * 784 + (y + dy) * 28 + x + dx] = 200 + (i % 50)
    }
  }
  return images
}

/** Pearson correlation of two equally long arrays. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length
  let ma = 0
  let mb = 0
  for (let i = 0; i < n; i++) {
    ma += a[i]
    mb += b[i]
  }
  ma /= n
  mb /= n
  let cov = 0
  let va = 0
  let vb = 0
  for (let i = 0; i < n; i++) {
    cov += (a[i] - ma) * (b[i] - mb)
    va += (a[i] - ma) ** 2
    vb += (b[i] - mb) ** 2
  }
  return cov / Math.sqrt(va * vb)
}

/** Centre of mass (x, y) of a width x height intensity image, pixel i centred at i. */
export function centreOfMass(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
): { x: number; y: number; mass: number } {
  let mass = 0
  let sx = 0
  let sy = 0
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x]
      mass += v
      sx += v * x
      sy += v * y
    }
  }
  return { x: sx / mass, y: sy / mass, mass }
}

/** Bounding box of non-zero pixels, or undefined when all are zero. */
export function inkBox(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
): { x0: number; y0: number; x1: number; y1: number; w: number; h: number } | undefined {
  let x0 = width
  let y0 = height
  let x1 = -1
  let y1 = -1
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[y * width + x] > 0) {
        x0 = Math.min(x0, x)
        x1 = Math.max(x1, x)
        y0 = Math.min(y0, y)
        y1 = Math.max(y1, y)
      }
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1, y1, w: x1 - x0 + 1, h: y1 - y0 + 1 }
}

/** A line segment in unit coordinates (0..1 across the image), used to draw test glyphs. */
export type Stroke = [x0: number, y0: number, x1: number, y1: number]

/** Strokes of a "4"-like glyph that is taller than it is wide. */
export const GLYPH_FOUR: Stroke[] = [
  [0.55, 0.15, 0.25, 0.6],
  [0.25, 0.6, 0.75, 0.6],
  [0.62, 0.3, 0.62, 0.85],
]

/**
 * Renders antialiased strokes (capsules of the given thickness in pixels) into a width x height gray
 * image: `ink` on `paper`. Coordinates are scaled by `box` (the glyph's extent in pixels) and offset.
 */
export function drawGlyph(opts: {
  width: number
  height: number
  strokes: Stroke[]
  thickness: number
  ink: number
  paper: number
  box?: { x: number; y: number; w: number; h: number }
}): { width: number; height: number; data: Uint8Array } {
  const { width, height, strokes, thickness, ink, paper } = opts
  const box = opts.box ?? { x: 0, y: 0, w: width, h: height }
  const data = new Uint8Array(width * height)
  const segs = strokes.map(([a, b, c, d]) => [
    box.x + a * box.w,
    box.y + b * box.h,
    box.x + c * box.w,
    box.y + d * box.h,
  ])
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = x + 0.5
      const py = y + 0.5
      let dist = Infinity
      for (const [ax, ay, bx, by] of segs) {
        const vx = bx - ax
        const vy = by - ay
        const len2 = vx * vx + vy * vy
        const t =
          len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / len2))
        dist = Math.min(dist, Math.hypot(px - (ax + t * vx), py - (ay + t * vy)))
      }
      const cover = Math.max(0, Math.min(1, thickness / 2 + 0.5 - dist))
      data[y * width + x] = Math.round(paper + (ink - paper) * cover)
    }
  }
  return { width, height, data }
}
