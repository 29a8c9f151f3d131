import type { Ink } from '@shared/schemas'

/** A pad stroke as the pad records it (points in pad pixels, a width multiplier per point). */
export interface PadStroke {
  readonly points: readonly { readonly x: number; readonly y: number; readonly w: number }[]
  readonly width: number
}

/** Pad coordinates are kept to a tenth of a pixel, widths to a hundredth: ample, and compact. */
const round = (value: number, places: number): number => {
  const scale = 10 ** places
  return Math.round(value * scale) / scale
}

/**
 * The pad's strokes in the stored ink shape (`InkSchema`: `{ padSize, strokes: [{ width,
 * points: [[x, y, w]] }] }`), so a saved drawing keeps its raw ink.
 */
export function inkOfStrokes(strokes: readonly PadStroke[], padSize: number): Ink {
  return {
    padSize,
    strokes: strokes.map((stroke) => ({
      width: round(stroke.width, 2),
      points: stroke.points.map((p) => [round(p.x, 1), round(p.y, 1), round(p.w, 2)]),
    })),
  }
}
