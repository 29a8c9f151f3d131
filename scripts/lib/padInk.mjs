// Hand-like drawings for the drawing pad, for the end-to-end tests and the collection benchmark:
// a few letter and digit shapes as strokes in unit coordinates, varied per sample (size, slant,
// position, wobble) with a seeded generator, and drawn with real mouse events at a human pace.

/** Strokes of each shape, as polylines in [0, 1] x [0, 1] (y down). */
export const SHAPES = {
  circle: [arc(0.5, 0.5, 0.38, 0.45, -90, 275, 18)],
  line: [
    [
      [0.52, 0.08],
      [0.5, 0.5],
      [0.48, 0.92],
    ],
  ],
  cross: [
    [
      [0.15, 0.12],
      [0.85, 0.88],
    ],
    [
      [0.85, 0.12],
      [0.15, 0.88],
    ],
  ],
  zero: [arc(0.5, 0.5, 0.3, 0.44, -90, 275, 18)],
  one: [
    [
      [0.38, 0.22],
      [0.55, 0.08],
      [0.54, 0.92],
    ],
  ],
  two: [[...arc(0.5, 0.32, 0.28, 0.24, 200, 380, 8), [0.2, 0.9], [0.82, 0.9]]],
  three: [
    [...arc(0.48, 0.3, 0.28, 0.22, 200, 450, 10), ...arc(0.48, 0.7, 0.32, 0.22, 270, 520, 10)],
  ],
  four: [
    [
      [0.6, 0.08],
      [0.15, 0.65],
      [0.88, 0.65],
    ],
    [
      [0.66, 0.35],
      [0.64, 0.95],
    ],
  ],
  five: [[[0.8, 0.1], [0.3, 0.1], [0.26, 0.45], ...arc(0.5, 0.66, 0.3, 0.26, 230, 490, 10)]],
  six: [[[0.72, 0.1], ...arc(0.5, 0.66, 0.28, 0.26, 200, 560, 16)]],
  seven: [
    [
      [0.15, 0.1],
      [0.85, 0.1],
      [0.4, 0.95],
    ],
  ],
  eight: [[...arc(0.5, 0.3, 0.22, 0.2, 90, 450, 14), ...arc(0.5, 0.72, 0.28, 0.22, 270, 630, 14)]],
  nine: [[...arc(0.5, 0.32, 0.28, 0.22, 0, 360, 14), [0.78, 0.34], [0.7, 0.95]]],
}

/** Points along an ellipse, angles in degrees (0 = right, 90 = down). */
function arc(cx, cy, rx, ry, from, to, steps) {
  const points = []
  for (let i = 0; i <= steps; i++) {
    const a = ((from + ((to - from) * i) / steps) * Math.PI) / 180
    points.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)])
  }
  return points
}

/** A small seeded generator (mulberry32): the same seed draws the same samples. */
export function seededRandom(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The sets of drawings the collection bench draws (scripts/collect-bench.mjs and its node twin,
 * test/node/helpers/fineTuneScenario.ts), each from its own stream: the collected dataset, the
 * pool whose misread drawings are corrected, and the held-out drawings of each hand.
 */
export const BENCH_SETS = { collect: 1, pool: 202, secondHand: 303, firstHand: 404 }

/**
 * The generator of bench set `set` for repeat `seed` (1, the bench's first figures, onwards):
 * every set and seed draws other drawings, and the same ones wherever it is drawn.
 */
export function benchRandom(set, seed = 1) {
  if (!(set in BENCH_SETS)) throw new Error(`no bench set "${set}"`)
  return seededRandom(BENCH_SETS[set] + (seed - 1) * 1000)
}

/**
 * How a hand varies its drawings: size as a share of the pad, slant (up to +-`slantDegrees`/2),
 * offset from the centre (up to +-`offset`/2 of the pad), wobble of each point (up to +-`wobble`/2
 * of the pad).
 */
export const FIRST_HAND = { size: [0.55, 0.85], slantDegrees: 24, offset: 0.24, wobble: 0.02 }
/** Another hand: smaller, more slanted and shakier drawings than FIRST_HAND's. */
export const SECOND_HAND = { size: [0.4, 0.6], slantDegrees: 50, offset: 0.3, wobble: 0.05 }

/**
 * One sample of `shape` in pad pixels, varied as `hand` varies (by default FIRST_HAND: 55-85% of
 * the pad, slanted up to 12 degrees, moved off centre by up to 12% of it, each point wobbling by
 * up to 1%).
 */
export function sampleStrokes(shape, random, padSize = 280, hand = FIRST_HAND) {
  const strokes = SHAPES[shape]
  if (!strokes) throw new Error(`no shape "${shape}"`)
  const [small, large] = hand.size
  const size = padSize * (small + (large - small) * random())
  const slant = ((random() - 0.5) * hand.slantDegrees * Math.PI) / 180
  const dx = (random() - 0.5) * hand.offset * padSize
  const dy = (random() - 0.5) * hand.offset * padSize
  const wobble = hand.wobble * padSize
  return strokes.map((stroke) =>
    stroke.map(([x, y]) => {
      const u = (x - 0.5) * size
      const v = (y - 0.5) * size
      return [
        padSize / 2 + dx + u * Math.cos(slant) - v * Math.sin(slant) + (random() - 0.5) * wobble,
        padSize / 2 + dy + u * Math.sin(slant) + v * Math.cos(slant) + (random() - 0.5) * wobble,
      ]
    }),
  )
}

/** A person's pace with a mouse: pen speed in pad pixels per second, pause between strokes. */
export const HUMAN_PACE = { pixelsPerSecond: 450, eventsPerSecond: 60, penUpMs: 120 }
/** Three times a person's pace: for collecting many drawings when the time is not the figure. */
export const BRISK_PACE = { pixelsPerSecond: 1500, eventsPerSecond: 60, penUpMs: 40 }

/**
 * The points the pad receives for `strokes` (pad pixels) drawn at `pace`: each stroke's first
 * point, then one pointer move every 1/`eventsPerSecond` s along each segment (at least one per
 * segment). `pace: null` (as fast as events go) moves once per segment. What `drawStrokes` sends
 * with real mouse events, and what the node measurements rasterise without a browser.
 */
export function padPoints(strokes, pace = HUMAN_PACE) {
  return strokes.map((stroke) => {
    const points = [stroke[0]]
    for (let i = 1; i < stroke.length; i++) {
      const [ax, ay] = stroke[i - 1]
      const [bx, by] = stroke[i]
      const length = Math.hypot(bx - ax, by - ay)
      const seconds = pace ? length / pace.pixelsPerSecond : 0
      const steps = Math.max(1, Math.round(seconds * (pace?.eventsPerSecond ?? 60)))
      for (let s = 1; s <= steps; s++) {
        const t = s / steps
        points.push([ax + (bx - ax) * t, ay + (by - ay) * t])
      }
    }
    return points
  })
}

/**
 * Draws `strokes` (pad pixels) on the pad whose box is `box` with real mouse events: each stroke
 * pressed, moved through `padPoints` with a move event every 1/`pace.eventsPerSecond` s (against
 * the clock, so slow event delivery does not slow the pen further), released, then a pause.
 * `pace: null` draws as fast as events go.
 */
export async function drawStrokes(page, box, strokes, pace = HUMAN_PACE) {
  for (const [[x0, y0], ...moves] of padPoints(strokes, pace)) {
    await page.mouse.move(box.x + x0, box.y + y0)
    await page.mouse.down()
    const started = performance.now()
    let due = 0
    for (const [x, y] of moves) {
      await page.mouse.move(box.x + x, box.y + y)
      if (!pace) continue
      due += 1000 / pace.eventsPerSecond
      const wait = started + due - performance.now()
      if (wait > 1) await page.waitForTimeout(wait)
    }
    await page.mouse.up()
    if (pace) await page.waitForTimeout(pace.penUpMs)
  }
}
