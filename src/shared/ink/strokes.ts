/** One sampled pointer position in pad coordinates (CSS pixels of the pad). */
export interface StrokePoint {
  x: number
  y: number
  /** Width multiplier from pen pressure (1 for mouse and touch). */
  w: number
}

/** One continuous stroke as drawn. */
export interface Stroke {
  points: StrokePoint[]
  /** Base stroke width in pad pixels. */
  width: number
}

/** Side of the drawing pad in CSS pixels; strokes are stored in these units. */
export const PAD_SIZE = 280
/** Side of the image the pad's strokes are rasterised to before classification. */
export const PAD_SEND_SIZE = 280
/** The pad's stroke width slider: range and starting value, in pad pixels. */
export const PAD_STROKE_WIDTH = { min: 6, max: 40, initial: 18 } as const

/** Width multiplier for a pointer event: pens vary with pressure, mouse and touch do not. */
export function pressureFactor(pointerType: string, pressure: number): number {
  if (pointerType !== 'pen' || !(pressure > 0)) return 1
  return 0.4 + 1.2 * Math.min(1, pressure)
}

const CURVE_STEPS = 6

/**
 * The stroke smoothed with quadratic curves through the midpoints of its samples, flattened into a
 * polyline. The drawing pad and the rasterizer both use it, so what is classified is what is shown.
 */
export function smoothStroke(points: readonly StrokePoint[]): StrokePoint[] {
  if (points.length < 3) return points.slice()
  const mid = (a: StrokePoint, b: StrokePoint): StrokePoint => ({
    x: (a.x + b.x) / 2,
    y: (a.y + b.y) / 2,
    w: (a.w + b.w) / 2,
  })
  const out: StrokePoint[] = [points[0]!]
  let start = points[0]!
  for (let i = 1; i < points.length - 1; i++) {
    const control = points[i]!
    const end = mid(control, points[i + 1]!)
    for (let s = 1; s <= CURVE_STEPS; s++) {
      const t = s / CURVE_STEPS
      const u = 1 - t
      out.push({
        x: u * u * start.x + 2 * u * t * control.x + t * t * end.x,
        y: u * u * start.y + 2 * u * t * control.y + t * t * end.y,
        w: u * u * start.w + 2 * u * t * control.w + t * t * end.w,
      })
    }
    start = end
  }
  out.push(points[points.length - 1]!)
  return out
}

/** Where strokes land in a raster image: `image = stroke * scale + offset`, and the ink's colours. */
export interface InkCanvas {
  width: number
  height: number
  /** Image pixels per stroke unit (stroke widths scale with it). */
  scale: number
  offsetX?: number
  offsetY?: number
  /** Gray level of full ink (default 0, black). */
  ink?: number
  /** Gray level of the paper (default 255, white). */
  paper?: number
}

/**
 * Rasterizes strokes into a `width` x `height` grayscale image (row-major, anti-aliased by the
 * exact coverage of round-capped segments). Pure, so the pad, the engine and the real-ink benchmark
 * share it without a canvas.
 */
export function rasterizeInk(strokes: readonly Stroke[], canvas: InkCanvas): Uint8Array {
  const { width, height, scale } = canvas
  const offsetX = canvas.offsetX ?? 0
  const offsetY = canvas.offsetY ?? 0
  const ink = canvas.ink ?? 0
  const paper = canvas.paper ?? 255
  // Coverage per pixel (max over segments), turned into gray levels at the end.
  const cover = new Float32Array(width * height)

  const stamp = (ax: number, ay: number, bx: number, by: number, radius: number) => {
    const minX = Math.max(0, Math.floor(Math.min(ax, bx) - radius - 1))
    const maxX = Math.min(width - 1, Math.ceil(Math.max(ax, bx) + radius + 1))
    const minY = Math.max(0, Math.floor(Math.min(ay, by) - radius - 1))
    const maxY = Math.min(height - 1, Math.ceil(Math.max(ay, by) + radius + 1))
    const dx = bx - ax
    const dy = by - ay
    const lengthSq = dx * dx + dy * dy
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5
        const py = y + 0.5
        const t = lengthSq
          ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / lengthSq))
          : 0
        const ex = px - (ax + t * dx)
        const ey = py - (ay + t * dy)
        const distance = Math.sqrt(ex * ex + ey * ey)
        const coverage = Math.min(1, radius - distance + 0.5)
        const index = y * width + x
        if (coverage > cover[index]!) cover[index] = coverage
      }
    }
  }

  for (const stroke of strokes) {
    const path = smoothStroke(stroke.points)
    for (let i = 0; i < path.length; i++) {
      const a = path[Math.max(0, i - 1)]!
      const b = path[i]!
      const radius = (stroke.width * scale * (a.w + b.w)) / 4
      stamp(
        a.x * scale + offsetX,
        a.y * scale + offsetY,
        b.x * scale + offsetX,
        b.y * scale + offsetY,
        radius,
      )
    }
  }
  const out = new Uint8Array(width * height)
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.round(paper + (ink - paper) * cover[i]!)
  }
  return out
}

/**
 * Rasterizes strokes drawn on a `padSize` square pad into a `size` x `size` grayscale image
 * (row-major, 255 = white paper, 0 = black ink, anti-aliased): what the pad sends for classification.
 */
export function rasterizeStrokes(
  strokes: readonly Stroke[],
  padSize: number,
  size: number,
): Uint8Array {
  return rasterizeInk(strokes, { width: size, height: size, scale: size / padSize })
}
