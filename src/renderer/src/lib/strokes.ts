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

/**
 * `start` when a stroke begins, `drawing` while the pointer moves (throttled live classification),
 * `end` when a stroke ends or the drawing changes (undo, clear).
 */
export type DrawPhase = 'start' | 'drawing' | 'end'

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

/** Draws strokes (black, round caps and joins) on a 2D context whose units are pad pixels. */
export function paintStrokes(ctx: CanvasRenderingContext2D, strokes: readonly Stroke[]): void {
  ctx.lineCap = 'round'
  ctx.lineJoin = 'round'
  ctx.strokeStyle = '#000'
  ctx.fillStyle = '#000'
  for (const stroke of strokes) {
    const path = smoothStroke(stroke.points)
    if (path.length === 1) {
      const p = path[0]!
      ctx.beginPath()
      ctx.arc(p.x, p.y, (stroke.width * p.w) / 2, 0, Math.PI * 2)
      ctx.fill()
      continue
    }
    for (let i = 1; i < path.length; i++) {
      const a = path[i - 1]!
      const b = path[i]!
      ctx.lineWidth = (stroke.width * (a.w + b.w)) / 2
      ctx.beginPath()
      ctx.moveTo(a.x, a.y)
      ctx.lineTo(b.x, b.y)
      ctx.stroke()
    }
  }
}

/**
 * Rasterizes strokes drawn on a `padSize` square pad into a `size` x `size` grayscale image
 * (row-major, 255 = white paper, 0 = black ink, anti-aliased). Pure, so it works without a canvas.
 */
export function rasterizeStrokes(
  strokes: readonly Stroke[],
  padSize: number,
  size: number,
): Uint8Array {
  const out = new Uint8Array(size * size).fill(255)
  const scale = size / padSize

  const stamp = (ax: number, ay: number, bx: number, by: number, radius: number) => {
    const minX = Math.max(0, Math.floor(Math.min(ax, bx) - radius - 1))
    const maxX = Math.min(size - 1, Math.ceil(Math.max(ax, bx) + radius + 1))
    const minY = Math.max(0, Math.floor(Math.min(ay, by) - radius - 1))
    const maxY = Math.min(size - 1, Math.ceil(Math.max(ay, by) + radius + 1))
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
        const distance = Math.hypot(px - (ax + t * dx), py - (ay + t * dy))
        const coverage = Math.max(0, Math.min(1, radius - distance + 0.5))
        if (coverage <= 0) continue
        const value = Math.round(255 * (1 - coverage))
        const index = y * size + x
        if (value < out[index]!) out[index] = value
      }
    }
  }

  for (const stroke of strokes) {
    const path = smoothStroke(stroke.points)
    for (let i = 0; i < path.length; i++) {
      const a = path[Math.max(0, i - 1)]!
      const b = path[i]!
      const radius = (stroke.width * scale * (a.w + b.w)) / 4
      stamp(a.x * scale, a.y * scale, b.x * scale, b.y * scale, radius)
    }
  }
  return out
}
