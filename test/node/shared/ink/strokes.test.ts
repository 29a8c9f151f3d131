import { describe, expect, it } from 'vitest'

import { rasterizeInk, rasterizeStrokes, smoothStroke } from '@shared/ink/strokes'

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

describe('rasterizeInk', () => {
  const bar = [
    {
      width: 4,
      points: [
        { x: 0, y: 5, w: 1 },
        { x: 10, y: 5, w: 1 },
      ],
    },
  ]

  it('places, scales and colours the ink as asked', () => {
    const img = rasterizeInk(bar, {
      width: 60,
      height: 40,
      scale: 2,
      offsetX: 20,
      offsetY: 10,
      ink: 30,
      paper: 200,
    })
    expect(img).toHaveLength(60 * 40)
    // Stroke y=5 lands at row 20; x from 20 to 40, 8 px thick.
    expect(img[20 * 60 + 30]).toBe(30)
    expect(img[17 * 60 + 30]).toBe(30)
    expect(img[10 * 60 + 30]).toBe(200)
    expect(img[20 * 60 + 5]).toBe(200)
  })

  it('is what rasterizeStrokes draws for the pad', () => {
    expect(rasterizeInk(bar, { width: 28, height: 28, scale: 0.5 })).toEqual(
      rasterizeStrokes(bar, 56, 28),
    )
  })
})
