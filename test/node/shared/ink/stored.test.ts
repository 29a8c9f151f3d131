import { inkOfStrokes, strokesOfInk } from '@shared/ink/stored'
import { PAD_SIZE, rasterizeStrokes, type Stroke } from '@shared/ink/strokes'
import { InkSchema } from '@shared/schemas'
import { describe, expect, it } from 'vitest'

describe('inkOfStrokes', () => {
  it('keeps every stroke and point in drawing order, rounded, in the documented shape', () => {
    const ink = inkOfStrokes(
      [
        {
          width: 18,
          points: [
            { x: 10.04, y: 20.96, w: 1 },
            { x: 30.55, y: 40.44, w: 1.234 },
          ],
        },
        { width: 12.345, points: [{ x: 5, y: 6, w: 0.5 }] },
      ],
      280,
    )
    expect(ink).toEqual({
      padSize: 280,
      strokes: [
        {
          width: 18,
          points: [
            [10, 21, 1],
            [30.6, 40.4, 1.23],
          ],
        },
        { width: 12.35, points: [[5, 6, 0.5]] },
      ],
    })
    expect(InkSchema.safeParse(ink).success, 'the services accept it').toBe(true)
  })
})

describe('strokesOfInk', () => {
  it('renders stored ink back into the image the pad sent when it was saved', () => {
    const drawn: Stroke[] = [
      {
        width: 18,
        points: [
          { x: 60, y: 50, w: 1 },
          { x: 140, y: 150, w: 1 },
          { x: 220, y: 230, w: 1 },
        ],
      },
      {
        width: 18,
        points: [
          { x: 220, y: 50, w: 1 },
          { x: 60, y: 230, w: 1 },
        ],
      },
    ]
    const stored = InkSchema.parse(JSON.parse(JSON.stringify(inkOfStrokes(drawn, PAD_SIZE))))
    const again = rasterizeStrokes(strokesOfInk(stored), stored.padSize, 28)
    expect(Array.from(again)).toEqual(Array.from(rasterizeStrokes(drawn, PAD_SIZE, 28)))
    expect(
      again.some((v) => v < 128),
      'the drawing has ink',
    ).toBe(true)
  })
})
