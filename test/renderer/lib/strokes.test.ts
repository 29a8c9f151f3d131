import { describe, expect, it } from 'vitest'

import { rasterizeStrokes, smoothStroke } from '@renderer/lib/strokes'

describe('strokes', () => {
  it('rasterizes a stroke as dark ink on white paper', () => {
    const pixels = rasterizeStrokes(
      [
        {
          width: 20,
          points: [
            { x: 40, y: 140, w: 1 },
            { x: 240, y: 140, w: 1 },
          ],
        },
      ],
      280,
      28,
    )
    expect(pixels).toHaveLength(28 * 28)
    expect(pixels[14 * 28 + 14]).toBe(0)
    expect(pixels[2 * 28 + 14]).toBe(255)
  })

  it('draws a dot for a single tap', () => {
    const pixels = rasterizeStrokes([{ width: 20, points: [{ x: 140, y: 140, w: 1 }] }], 280, 280)
    expect(pixels[140 * 280 + 140]).toBe(0)
  })

  it('smooths through midpoints and keeps both ends', () => {
    const points = [
      { x: 0, y: 0, w: 1 },
      { x: 10, y: 0, w: 1 },
      { x: 10, y: 10, w: 1 },
    ]
    const path = smoothStroke(points)
    expect(path[0]).toEqual(points[0])
    expect(path[path.length - 1]).toEqual(points[2])
    expect(path.length).toBeGreaterThan(points.length)
  })
})
