import { z } from 'zod'

/**
 * Raw ink as InkLab stores it with a drawn sample, so the drawing can be rendered again later (at
 * another size or stroke width, or by a better rasteriser). A plain JSON shape of its own, on
 * purpose independent of the pad's stroke types:
 *
 *     { "padSize": 280, "strokes": [{ "width": 18, "points": [[x, y, w], ...] }, ...] }
 *
 * - `padSize`: side of the square pad the ink was drawn on, in pad pixels;
 * - `width`: a stroke's base width in pad pixels;
 * - `x`, `y`: a point in pad pixels from the pad's top-left corner (a pen dragged past the edge
 *   may leave it slightly); `w`: the width multiplier at that point (pen pressure, 1 for mouse
 *   and touch).
 *
 * Strokes, and the points of each, are in the order they were drawn.
 */
export const INK_LIMITS = {
  padSize: { min: 16, max: 4096 },
  width: { min: 0.5, max: 400 },
  /** The width multiplier of a point. */
  pressure: { min: 0, max: 4 },
  strokes: 500,
  /** Across all strokes of one drawing. */
  points: 50_000,
} as const

/** How far outside the pad a point may lie, as a multiple of the pad's size. */
const OUTSIDE = 1

/** One stroke: its base width and its points `[x, y, w]`. */
export const InkStrokeSchema = z.object({
  width: z.number().min(INK_LIMITS.width.min).max(INK_LIMITS.width.max),
  points: z
    .array(
      z.tuple([
        z.number(),
        z.number(),
        z.number().min(INK_LIMITS.pressure.min).max(INK_LIMITS.pressure.max),
      ]),
    )
    .min(1)
    .max(INK_LIMITS.points),
})
export type InkStroke = z.infer<typeof InkStrokeSchema>

/** A drawing's raw ink (see the shape above). */
export const InkSchema = z
  .object({
    padSize: z.number().min(INK_LIMITS.padSize.min).max(INK_LIMITS.padSize.max),
    strokes: z.array(InkStrokeSchema).min(1).max(INK_LIMITS.strokes),
  })
  .superRefine((ink, ctx) => {
    let total = 0
    const low = -OUTSIDE * ink.padSize
    const high = (1 + OUTSIDE) * ink.padSize
    for (const [s, stroke] of ink.strokes.entries()) {
      total += stroke.points.length
      for (const [p, [x, y]] of stroke.points.entries()) {
        if (x < low || x > high || y < low || y > high) {
          ctx.addIssue({
            code: 'custom',
            path: ['strokes', s, 'points', p],
            message: `point (${x}, ${y}) lies far outside the ${ink.padSize} px pad`,
          })
          return
        }
      }
    }
    if (total > INK_LIMITS.points) {
      ctx.addIssue({
        code: 'custom',
        path: ['strokes'],
        message: `${total} points in all; at most ${INK_LIMITS.points} are kept`,
      })
    }
  })
export type Ink = z.infer<typeof InkSchema>
