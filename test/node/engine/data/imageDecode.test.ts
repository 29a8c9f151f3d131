import { execFileSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  decodeImageBuffer,
  describeDecodeFailure,
  decodeImageFile,
  grayFromRgba,
  sniffImageFormat,
} from '@engine/data/imageDecode'
import { DatasetError } from '@engine/data/types'

import { makeTempDir } from './helpers'

/** 4x2 RGBA test pattern: black, white, mid gray, transparent / then black half-transparent etc. */
const W = 4
const H = 2
const RGBA = new Uint8Array([
  0, 0, 0, 255, /**/ 255, 255, 255, 255, /**/ 128, 128, 128, 255, /**/ 0, 0, 0, 0, 0, 0, 0, 255,
  /**/ 0, 0, 0, 255, /**/ 255, 255, 255, 255, /**/ 0, 0, 0, 128,
])

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'ascii')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

/** A valid PNG header claiming width x height, with a tiny (wrong-size) image payload. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 0 // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(16))),
    pngChunk('IEND', Buffer.alloc(0)),
  ])
}

describe('decodeImageBuffer', () => {
  const encoded: Record<string, Buffer> = {}
  beforeAll(async () => {
    const base = () => sharp(Buffer.from(RGBA), { raw: { width: W, height: H, channels: 4 } })
    encoded.png = await base().png().toBuffer()
    encoded.webp = await base().webp({ lossless: true }).toBuffer()
    encoded.tiff = await base().tiff({ compression: 'lzw' }).toBuffer()
    encoded.gif = await base().gif().toBuffer()
  })

  it('recognises formats by content', () => {
    expect(sniffImageFormat(encoded.png)).toBe('png')
    expect(sniffImageFormat(encoded.webp)).toBe('webp')
    expect(sniffImageFormat(encoded.tiff)).toBe('tiff')
    expect(sniffImageFormat(encoded.gif)).toBe('gif')
    expect(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg')
    expect(sniffImageFormat(new Uint8Array([0x42, 0x4d, 0, 0]))).toBe('bmp')
    expect(sniffImageFormat(new TextEncoder().encode('hello world'))).toBeUndefined()
  })

  it.each(['png', 'webp', 'tiff'])(
    '%s: exact gray values, transparency becomes white paper',
    async (fmt) => {
      const img = await decodeImageBuffer(encoded[fmt], `x.${fmt}`)
      expect(img.width).toBe(W)
      expect(img.height).toBe(H)
      expect(img.data.length).toBe(W * H)
      const d = Array.from(img.data)
      expect(d.slice(0, 3)).toEqual([0, 255, 128])
      expect(d[3]).toBe(255) // fully transparent -> white
      expect(d[7]).toBeGreaterThanOrEqual(125) // black at alpha 128 over white -> ~127
      expect(d[7]).toBeLessThanOrEqual(129)
    },
  )

  it('gif (palette, 1-bit transparency) decodes to black and white where expected', async () => {
    const d = Array.from((await decodeImageBuffer(encoded.gif, 'x.gif')).data)
    expect(d[0]).toBe(0)
    expect(d[1]).toBe(255)
    expect(d[3]).toBe(255)
  })

  it('jpeg: lossy but close', async () => {
    const gray = new Uint8Array(16 * 16).map((_, i) => (i % 16 < 8 ? 20 : 230))
    const jpeg = await sharp(Buffer.from(gray), { raw: { width: 16, height: 16, channels: 1 } })
      .jpeg({ quality: 95 })
      .toBuffer()
    const img = await decodeImageBuffer(jpeg, 'x.jpg')
    expect(Math.abs(img.data[0] - 20)).toBeLessThan(8)
    expect(Math.abs(img.data[15] - 230)).toBeLessThan(8)
  })

  it('16-bit PNG comes back as 8-bit', async () => {
    const png16 = await sharp(Buffer.from(new Uint8Array([0, 255, 128, 64])), {
      raw: { width: 2, height: 2, channels: 1 },
    })
      .toColourspace('grey16')
      .png()
      .toBuffer()
    const img = await decodeImageBuffer(png16, 'deep.png')
    expect(Array.from(img.data)).toEqual([0, 255, 128, 64])
  })

  it('decodes BMP by its magic bytes even with a misleading name', async () => {
    // 1x1 24-bit BMP, pixel (B,G,R) = (0, 0, 255) -> luma 76.
    const bmp = new Uint8Array(58)
    const v = new DataView(bmp.buffer)
    bmp.set([0x42, 0x4d])
    v.setUint32(10, 54, true)
    v.setUint32(14, 40, true)
    v.setInt32(18, 1, true)
    v.setInt32(22, 1, true)
    v.setUint16(26, 1, true)
    v.setUint16(28, 24, true)
    bmp.set([0, 0, 255], 54)
    const img = await decodeImageBuffer(bmp, 'actually-a-bmp.png')
    expect(Array.from(img.data)).toEqual([76])
  })

  it('says what a decoder failure means when the decoder does not', () => {
    expect(describeDecodeFailure('png', 'Unknown error')).toBe(
      'the PNG file is damaged or incomplete',
    )
    expect(describeDecodeFailure('png', 'pngload_buffer: libspng read error')).toBe(
      'the PNG file is damaged or incomplete',
    )
    expect(
      describeDecodeFailure(
        'png',
        'Input buffer has corrupt header: pngload_buffer: invalid chunk checksum',
      ),
    ).toBe('the PNG file is damaged (invalid chunk checksum)')
  })

  it('refuses unknown formats, corrupt data and absurd sizes with DatasetErrors naming the file', async () => {
    await expect(
      decodeImageBuffer(new TextEncoder().encode('not an image'), 'notes.png'),
    ).rejects.toThrow('notes.png: unsupported image format')
    const corrupt = encoded.png.subarray(0, 30)
    await expect(decodeImageBuffer(corrupt, 'cut.png')).rejects.toThrow(
      /^cut\.png: cannot decode PNG image: the PNG file is cut short \(end of stream\)$/,
    )
    await expect(decodeImageBuffer(new Uint8Array(0), 'zero.png')).rejects.toThrow(
      'zero.png: empty file (0 bytes)',
    )
    const err = await decodeImageBuffer(pngClaiming(10000, 6000), 'giant.png').catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(DatasetError)
    expect((err as Error).message).toBe(
      'giant.png: image is 10000x6000 (60 megapixels), more than the 50 megapixels InkLab accepts',
    )
  })
})

describe('decodeImageFile', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  beforeAll(async () => {
    tmp = await makeTempDir()
  })
  afterAll(() => tmp.cleanup())

  it.runIf(process.platform !== 'win32')(
    'refuses a FIFO named like an image at once, and an empty file by name',
    async () => {
      const fifo = join(tmp.dir, 'pipe.png')
      execFileSync('mkfifo', [fifo])
      await expect(decodeImageFile(fifo)).rejects.toThrow(
        'pipe.png: is a named pipe (FIFO), not a regular file',
      )
      await writeFile(join(tmp.dir, 'zero.png'), '')
      await expect(decodeImageFile(join(tmp.dir, 'zero.png'))).rejects.toThrow(
        'zero.png: empty file (0 bytes)',
      )
    },
  )

  it('reads a file and reports a missing one', async () => {
    const path = join(tmp.dir, 'a.png')
    await writeFile(
      path,
      await sharp({ create: { width: 3, height: 2, channels: 3, background: '#000000' } })
        .png()
        .toBuffer(),
    )
    const img = await decodeImageFile(path)
    expect([img.width, img.height, img.data[0]]).toEqual([3, 2, 0])
    await expect(decodeImageFile(join(tmp.dir, 'b.png'))).rejects.toThrow('b.png: file not found')
  })
})

describe('grayFromRgba', () => {
  it('composites alpha onto white and converts colour to luma', () => {
    const img = grayFromRgba(RGBA, W, H)
    expect(Array.from(img.data)).toEqual([0, 255, 128, 255, 0, 0, 255, 127])
    expect(() => grayFromRgba(new Uint8Array(3), 1, 1)).toThrow(RangeError)
  })
})
