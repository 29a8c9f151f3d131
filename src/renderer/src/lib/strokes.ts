import { smoothStroke, type Stroke } from '@shared/ink/strokes'

/**
 * `start` when a stroke begins, `drawing` while the pointer moves (throttled live classification),
 * `end` when a stroke ends or the drawing changes (undo, clear).
 */
export type DrawPhase = 'start' | 'drawing' | 'end'

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
