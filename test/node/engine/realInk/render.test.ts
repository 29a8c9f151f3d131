import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

import { decodeImageBuffer, decodeImageFile } from '@engine/data/imageDecode'
import { preprocess } from '@engine/data/preprocess'
import { renderPad, renderScan, sampleRng, SCAN_RENDER } from '@engine/realInk/render'
import type { PenSample } from '@engine/realInk/trajectories'
import { PAD_SEND_SIZE, PAD_SIZE, rasterizeInk, rasterizeStrokes } from '@shared/ink/strokes'
import sharp from 'sharp'

import { makeTmpDir } from '../../helpers/tmpDir'
import { correlation } from '../data/helpers'

/** A "4" as a pen would record it (y down): a down-and-across stroke and a vertical one. */
const FOUR: PenSample = {
  id: 3,
  label: '4',
  writer: 'test:1',
  strokes: [
    [
      { x: 60, y: 10 },
      { x: 20, y: 80 },
      { x: 90, y: 80 },
    ],
    [
      { x: 70, y: 40 },
      { x: 70, y: 90 },
      { x: 71, y: 130 },
    ],
  ],
}

describe('renderPad', () => {
  it('draws on the pad with the pad rasteriser, the same way for the same seed', () => {
    const a = renderPad(FOUR, sampleRng(7, FOUR.id, 1))
    const b = renderPad(FOUR, sampleRng(7, FOUR.id, 1))
    const c = renderPad(FOUR, sampleRng(8, FOUR.id, 1))
    expect(a.image.width).toBe(PAD_SEND_SIZE)
    expect(a.image.data).toEqual(rasterizeStrokes(a.strokes, PAD_SIZE, PAD_SEND_SIZE))
    expect(a.image.data).toEqual(b.image.data)
    expect(a.image.data).not.toEqual(c.image.data)
    for (const stroke of a.strokes) {
      for (const p of stroke.points) {
        expect(p.x).toBeGreaterThanOrEqual(0)
        expect(p.x).toBeLessThanOrEqual(PAD_SIZE)
      }
    }
  })
})

describe('renderScan', () => {
  it('writes a decodable dark-on-light JPEG or PNG within the size range, deterministically', async () => {
    const formats = new Set<string>()
    for (let seed = 0; seed < 12; seed++) {
      const scan = await renderScan(FOUR, sampleRng(seed, FOUR.id, 2))
      const again = await renderScan(FOUR, sampleRng(seed, FOUR.id, 2))
      expect(Buffer.compare(scan.bytes, again.bytes)).toBe(0)
      formats.add(scan.format)
      const image = await decodeImageBuffer(scan.bytes, 'scan')
      expect(image.width).toBe(scan.width)
      expect(Math.max(image.width, image.height)).toBeLessThanOrEqual(SCAN_RENDER.side[1])
      expect(Math.min(image.width, image.height)).toBeGreaterThanOrEqual(SCAN_RENDER.side[0])
      expect(preprocess(image).empty).toBe(false)
    }
    expect(formats).toEqual(new Set(['jpeg', 'png']))
  })
})

describe('one preprocessing path for pad and files', () => {
  it('the pad drawing and the same pixels saved as a PNG file give the same 28x28 input', async () => {
    const { image } = renderPad(FOUR, sampleRng(1, FOUR.id, 1))
    const { dir, cleanup } = await makeTmpDir()
    try {
      const file = join(dir, 'drawn.png')
      await writeFile(
        file,
        await sharp(Buffer.from(image.data), {
          raw: { width: image.width, height: image.height, channels: 1 },
        })
          .png()
          .toBuffer(),
      )
      const fromPad = preprocess(image)
      const fromFile = preprocess(await decodeImageFile(file))
      expect(fromPad.empty).toBe(false)
      expect(fromFile.pixels).toEqual(fromPad.pixels)
    } finally {
      await cleanup()
    }
  })

  it('the same ink scanned at 4x the size, strokes 4x as wide, gives nearly the same input', () => {
    const strokes = FOUR.strokes.map((points) => ({
      width: 12,
      points: points.map((p) => ({ x: p.x + 60, y: p.y + 60, w: 1 })),
    }))
    const small = rasterizeInk(strokes, { width: 280, height: 280, scale: 1 })
    const large = rasterizeInk(strokes, { width: 1120, height: 1120, scale: 4 })
    const a = preprocess({ width: 280, height: 280, data: small }).pixels
    const b = preprocess({ width: 1120, height: 1120, data: large }).pixels
    expect(correlation(a, b)).toBeGreaterThan(0.98)
  })
})
