import { InkSchema } from '@shared/schemas'
import { describe, expect, it } from 'vitest'

import { inkOfStrokes } from '@renderer/lib/ink'

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
