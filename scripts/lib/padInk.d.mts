import type { Page } from 'playwright-core'

/** A polyline: [x, y] points. */
export type Polyline = [number, number][]

/** Strokes of each shape, in unit coordinates. */
export declare const SHAPES: Record<string, Polyline[]>
export type ShapeName = keyof typeof SHAPES

/** A seeded generator of numbers in [0, 1). */
export declare function seededRandom(seed: number): () => number

/** The sets of drawings the collection bench draws, each from its own stream. */
export declare const BENCH_SETS: Record<'collect' | 'pool' | 'secondHand' | 'firstHand', number>
export type BenchSet = keyof typeof BENCH_SETS
/** The generator of bench set `set` for repeat `seed` (1 onwards). */
export declare function benchRandom(set: BenchSet, seed?: number): () => number

/** How a hand varies its drawings (see padInk.mjs). */
export interface Hand {
  size: [number, number]
  slantDegrees: number
  offset: number
  wobble: number
}
export declare const FIRST_HAND: Hand
export declare const SECOND_HAND: Hand

/** One varied sample of `shape`, in pad pixels. */
export declare function sampleStrokes(
  shape: string,
  random: () => number,
  padSize?: number,
  hand?: Hand,
): Polyline[]

/** How fast `drawStrokes` draws. */
export interface Pace {
  pixelsPerSecond: number
  eventsPerSecond: number
  penUpMs: number
}
export declare const HUMAN_PACE: Pace
export declare const BRISK_PACE: Pace

/** The points the pad receives for `strokes` drawn at `pace` (null: as fast as events go). */
export declare function padPoints(strokes: Polyline[], pace?: Pace | null): Polyline[]

/** Draws strokes on the pad at `box` with real mouse events. */
export declare function drawStrokes(
  page: Page,
  box: { x: number; y: number },
  strokes: Polyline[],
  pace?: Pace | null,
): Promise<void>
