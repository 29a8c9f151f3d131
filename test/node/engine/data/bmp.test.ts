import { describe, expect, it } from 'vitest'

import { decodeBmp } from '@engine/data/bmp'
import { DatasetError } from '@engine/data/types'

type Rgba = [number, number, number, number?]

interface BmpSpec {
  width: number
  height: number
  bpp: 1 | 4 | 8 | 16 | 24 | 32
  /** Pixels row-major, top row first: palette indices (<= 8 bpp) or colours. */
  pixels: (number | Rgba)[]
  palette?: [number, number, number][]
  topDown?: boolean
  headerSize?: 12 | 40 | 108 | 124
  compression?: number
  /** R, G, B, A masks for BI_BITFIELDS. */
  masks?: [number, number, number, number]
}

/** A tiny BMP encoder, independent of the decoder under test. */
function encodeBmp(spec: BmpSpec): Uint8Array {
  const { width, height, bpp, pixels } = spec
  const headerSize = spec.headerSize ?? 40
  const core = headerSize === 12
  const compression = spec.compression ?? (spec.masks ? 3 : 0)
  const extraMasks = spec.masks && headerSize === 40 ? 12 : 0
  const palette = spec.palette ?? []
  const paletteBytes = palette.length * (core ? 3 : 4)
  const stride = Math.floor((width * bpp + 31) / 32) * 4
  const offset = 14 + headerSize + extraMasks + paletteBytes
  const out = new Uint8Array(offset + stride * height)
  const v = new DataView(out.buffer)
  out[0] = 0x42
  out[1] = 0x4d
  v.setUint32(2, out.length, true)
  v.setUint32(10, offset, true)
  v.setUint32(14, headerSize, true)
  if (core) {
    v.setUint16(18, width, true)
    v.setUint16(20, height, true)
    v.setUint16(22, 1, true)
    v.setUint16(24, bpp, true)
  } else {
    v.setInt32(18, width, true)
    v.setInt32(22, spec.topDown ? -height : height, true)
    v.setUint16(26, 1, true)
    v.setUint16(28, bpp, true)
    v.setUint32(30, compression, true)
    v.setUint32(46, palette.length, true)
    if (spec.masks)
      spec.masks.forEach((m, i) =>
        i < 3 || headerSize > 40 ? v.setUint32(54 + 4 * i, m >>> 0, true) : 0,
      )
  }
  palette.forEach(([r, g, b], i) => {
    const p = 14 + headerSize + extraMasks + i * (core ? 3 : 4)
    out[p] = b
    out[p + 1] = g
    out[p + 2] = r
  })
  const pack = (c: Rgba): number => {
    const [r, g, b, a = 255] = c
    if (!spec.masks)
      return bpp === 16 ? ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3) : (r << 16) | (g << 8) | b
    const put = (value: number, mask: number): number => {
      if (mask === 0) return 0
      let shift = 0
      while (((mask >>> shift) & 1) === 0) shift++
      const max = mask >>> shift
      return (Math.round((value * max) / 255) << shift) >>> 0
    }
    const [mr, mg, mb, ma] = spec.masks
    return (put(r, mr) | put(g, mg) | put(b, mb) | put(a, ma)) >>> 0
  }
  for (let y = 0; y < height; y++) {
    const row = offset + (spec.topDown ? y : height - 1 - y) * stride
    for (let x = 0; x < width; x++) {
      const px = pixels[y * width + x]
      if (bpp <= 8) {
        const perByte = 8 / bpp
        const shift = 8 - bpp * ((x % perByte) + 1)
        out[row + Math.floor(x / perByte)] |= (px as number) << shift
      } else if (bpp === 24) {
        const [r, g, b] = px as Rgba
        out.set([b, g, r], row + x * 3)
      } else if (bpp === 16) {
        v.setUint16(row + x * 2, pack(px as Rgba), true)
      } else {
        v.setUint32(row + x * 4, pack(px as Rgba), true)
      }
    }
  }
  return out
}

/** Rec. 601 luma, computed by hand in the tests below. */
const gray = (r: number, g: number, b: number): number =>
  Math.round(0.299 * r + 0.587 * g + 0.114 * b)

describe('decodeBmp', () => {
  it('24-bit bottom-up: rows come out top first, colours become Rec.601 luma', () => {
    // 3x2 with row padding (3*3 = 9 bytes -> 12 per row).
    const red: Rgba = [255, 0, 0]
    const green: Rgba = [0, 255, 0]
    const white: Rgba = [255, 255, 255]
    const black: Rgba = [0, 0, 0]
    const img = decodeBmp(
      encodeBmp({ width: 3, height: 2, bpp: 24, pixels: [red, green, white, black, white, black] }),
      'a.bmp',
    )
    expect(img.width).toBe(3)
    expect(img.height).toBe(2)
    // By hand: 0.299 * 255 = 76.245 -> 76 for pure red, 0.587 * 255 = 149.685 -> 150 for pure green.
    expect(Array.from(img.data)).toEqual([76, 150, 255, 0, 255, 0])
  })

  it('top-down rows (negative height) are not flipped', () => {
    const pixels: Rgba[] = [
      [10, 10, 10],
      [200, 200, 200],
    ]
    const img = decodeBmp(
      encodeBmp({ width: 1, height: 2, bpp: 24, pixels, topDown: true }),
      't.bmp',
    )
    expect(Array.from(img.data)).toEqual([10, 200])
  })

  it('1-bit palette with odd width, including a BITMAPCOREHEADER variant', () => {
    const pixels = [1, 0, 1, 1, 0, 0, 1, 0, 1, /* row 2 */ 0, 0, 0, 0, 0, 0, 0, 0, 1]
    const palette: [number, number, number][] = [
      [0, 0, 0],
      [255, 255, 255],
    ]
    for (const headerSize of [40, 12] as const) {
      const img = decodeBmp(
        encodeBmp({ width: 9, height: 2, bpp: 1, pixels, palette, headerSize }),
        'mono.bmp',
      )
      expect(Array.from(img.data)).toEqual(pixels.map((p) => p * 255))
    }
  })

  it('4-bit and 8-bit palettes map indices through the palette colours', () => {
    const palette: [number, number, number][] = Array.from({ length: 16 }, (_, i) => [
      i * 16,
      0,
      255 - i * 16,
    ])
    const pixels = [0, 15, 7, 3, 9]
    for (const bpp of [4, 8] as const) {
      const img = decodeBmp(encodeBmp({ width: 5, height: 1, bpp, pixels, palette }), `p${bpp}.bmp`)
      expect(Array.from(img.data)).toEqual(pixels.map((i) => gray(palette[i][0], 0, palette[i][2])))
    }
    // Index 7 by hand: r = 112, b = 143 -> 0.299 * 112 + 0.114 * 143 = 33.488 + 16.302 = 49.79 -> 50.
    const img = decodeBmp(encodeBmp({ width: 5, height: 1, bpp: 8, pixels, palette }), 'p.bmp')
    expect(img.data[2]).toBe(50)
  })

  it('16-bit 555 and 565 bit fields expand 5/6-bit channels to 0..255', () => {
    const pixels: Rgba[] = [
      [255, 255, 255],
      [0, 0, 0],
      [0, 255, 0],
      [255, 0, 0],
    ]
    const img555 = decodeBmp(encodeBmp({ width: 4, height: 1, bpp: 16, pixels }), '555.bmp')
    expect(Array.from(img555.data)).toEqual([255, 0, 150, 76])
    const masks: [number, number, number, number] = [0xf800, 0x07e0, 0x001f, 0]
    const img565 = decodeBmp(encodeBmp({ width: 4, height: 1, bpp: 16, pixels, masks }), '565.bmp')
    expect(Array.from(img565.data)).toEqual([255, 0, 150, 76])
  })

  it('32-bit BI_BITFIELDS with alpha in a V5 header composites onto white', () => {
    const masks: [number, number, number, number] = [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000]
    const pixels: Rgba[] = [
      [0, 0, 0, 255],
      [0, 0, 0, 0],
      [0, 0, 0, 128],
      [100, 100, 100, 255],
    ]
    const img = decodeBmp(
      encodeBmp({ width: 4, height: 1, bpp: 32, pixels, masks, headerSize: 124 }),
      'v5.bmp',
    )
    // Half-transparent black over white: 255 * (255 - 128) / 255 = 127.
    expect(Array.from(img.data)).toEqual([0, 255, 127, 100])
  })

  it('32-bit BI_RGB ignores the unused fourth byte', () => {
    const pixels: Rgba[] = [[30, 30, 30, 0]]
    const img = decodeBmp(encodeBmp({ width: 1, height: 1, bpp: 32, pixels }), 'x.bmp')
    expect(img.data[0]).toBe(30)
  })

  it('refuses RLE compression, truncation and absurd sizes with clear messages', () => {
    const rle = encodeBmp({
      width: 2,
      height: 2,
      bpp: 8,
      pixels: [0, 0, 0, 0],
      palette: [[0, 0, 0]],
      compression: 1,
    })
    expect(() => decodeBmp(rle, 'rle.bmp')).toThrow('rle.bmp: unsupported BMP compression (RLE8)')
    const ok = encodeBmp({ width: 4, height: 4, bpp: 24, pixels: new Array(16).fill([0, 0, 0]) })
    expect(() => decodeBmp(ok.subarray(0, ok.length - 20), 'cut.bmp')).toThrow(
      /cut\.bmp: truncated BMP/,
    )
    const huge = encodeBmp({ width: 1, height: 1, bpp: 24, pixels: [[0, 0, 0]] })
    new DataView(huge.buffer).setInt32(18, 100_000, true)
    new DataView(huge.buffer).setInt32(22, 100_000, true)
    expect(() => decodeBmp(huge, 'huge.bmp')).toThrow(/100000x100000.*more than the 50 megapixels/)
    expect(() => decodeBmp(new Uint8Array([1, 2, 3]), 'n.bmp')).toThrow(DatasetError)
  })
})
