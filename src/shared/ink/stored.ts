import type { Ink } from '../schemas/ink'
import type { Stroke } from './strokes'

/** Pad coordinates are kept to a tenth of a pixel, widths to a hundredth: ample, and compact. */
const round = (value: number, places: number): number => {
  const scale = 10 ** places
  return Math.round(value * scale) / scale
}

/**
 * The pad's strokes in the stored ink shape (`InkSchema`: `{ padSize, strokes: [{ width,
 * points: [[x, y, w]] }] }`), so a saved drawing keeps its raw ink.
 */
export function inkOfStrokes(strokes: readonly Stroke[], padSize: number): Ink {
  return {
    padSize,
    strokes: strokes.map((stroke) => ({
      width: round(stroke.width, 2),
      points: stroke.points.map((p) => [round(p.x, 1), round(p.y, 1), round(p.w, 2)]),
    })),
  }
}

/** Stored ink back as pad strokes, to render a saved drawing again (`rasterizeStrokes`). */
export function strokesOfInk(ink: Ink): Stroke[] {
  return ink.strokes.map((stroke) => ({
    width: stroke.width,
    points: stroke.points.map(([x, y, w]) => ({ x, y, w })),
  }))
}
