import { DatasetError, type GrayImage } from './types'

/** Largest image (in pixels) any decoder in InkLab accepts. */
export const MAX_IMAGE_PIXELS = 50_000_000

const COMPRESSION_NAMES: Record<number, string> = {
  0: 'BI_RGB',
  1: 'RLE8',
  2: 'RLE4',
  3: 'BI_BITFIELDS',
  4: 'JPEG',
  5: 'PNG',
  6: 'BI_ALPHABITFIELDS',
  11: 'CMYK',
  12: 'CMYK RLE8',
  13: 'CMYK RLE4',
}
const BI_RGB = 0
const BI_BITFIELDS = 3
const BI_ALPHABITFIELDS = 6

/** True when the bytes start with the BMP signature "BM". */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d
}

/** Rec. 601 luma, rounded, from 8-bit RGB. */
function luma(r: number, g: number, b: number): number {
  return ((r * 299 + g * 587 + b * 114 + 500) / 1000) | 0
}

/** A colour channel described by a bit mask (BI_BITFIELDS / 16-bit 555). */
interface Channel {
  mask: number
  shift: number
  max: number
}

function channel(mask: number): Channel {
  const m = mask >>> 0
  if (m === 0) return { mask: 0, shift: 0, max: 0 }
  let shift = 0
  while (((m >>> shift) & 1) === 0) shift++
  let bits = 0
  while (shift + bits < 32 && ((m >>> (shift + bits)) & 1) === 1) bits++
  return { mask: m, shift, max: bits >= 32 ? 0xffffffff : 2 ** bits - 1 }
}

function readChannel(px: number, c: Channel): number {
  if (c.max === 0) return 0
  return Math.round((((px & c.mask) >>> c.shift) * 255) / c.max)
}

/**
 * Decodes a Windows BMP to grayscale: core (OS/2 v1), BITMAPINFOHEADER and V2-V5 headers, 1/4/8-bit
 * palettes, 16-bit (555 or bit fields), 24-bit and 32-bit (bit fields with alpha composited onto white),
 * bottom-up and top-down rows. RLE, embedded JPEG/PNG and CMYK throw a DatasetError naming `file`.
 */
export function decodeBmp(bytes: Uint8Array, file: string): GrayImage {
  const fail = (problem: string): never => {
    throw new DatasetError(problem, file)
  }
  if (!isBmp(bytes)) fail('not a BMP file (no "BM" signature)')
  if (bytes.length < 26) fail(`truncated BMP: only ${bytes.length} bytes`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dataOffset = view.getUint32(10, true)
  const headerSize = view.getUint32(14, true)
  const core = headerSize === 12
  if (!core && headerSize < 40) fail(`unsupported BMP header size ${headerSize}`)
  if (bytes.length < 14 + (core ? 12 : 40)) fail(`truncated BMP header (${bytes.length} bytes)`)

  const width = core ? view.getUint16(18, true) : view.getInt32(18, true)
  const rawHeight = core ? view.getUint16(20, true) : view.getInt32(22, true)
  const bpp = core ? view.getUint16(24, true) : view.getUint16(28, true)
  const compression = core ? BI_RGB : view.getUint32(30, true)
  const topDown = rawHeight < 0
  const height = Math.abs(rawHeight)
  if (width <= 0 || height <= 0) fail(`invalid BMP size ${width}x${rawHeight}`)
  if (width * height > MAX_IMAGE_PIXELS) {
    fail(
      `image is ${width}x${height} (${Math.round((width * height) / 1e6)} megapixels), more than the ${MAX_IMAGE_PIXELS / 1e6} megapixels InkLab accepts`,
    )
  }

  const bitfields = compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS
  if (compression !== BI_RGB && !(bitfields && (bpp === 16 || bpp === 32))) {
    const name = COMPRESSION_NAMES[compression] ?? `type ${compression}`
    fail(`unsupported BMP compression (${name})`)
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) fail(`unsupported BMP bit depth ${bpp}`)

  // Palette for 1/4/8 bpp: BGR(x) entries right after the header (and the masks, when present).
  let palette: Uint8Array | undefined
  if (bpp <= 8) {
    const entrySize = core ? 3 : 4
    const colorsUsed = core ? 0 : view.getUint32(46, true)
    const colors = colorsUsed > 0 ? Math.min(colorsUsed, 1 << bpp) : 1 << bpp
    const start = 14 + headerSize
    palette = new Uint8Array(1 << bpp)
    for (let i = 0; i < colors; i++) {
      const p = start + i * entrySize
      if (p + 3 > bytes.length) fail('truncated BMP palette')
      palette[i] = luma(bytes[p + 2], bytes[p + 1], bytes[p])
    }
  }

  // Channel masks: in the header for V2+ (offset 54 either way), defaults otherwise.
  let red: Channel
  let green: Channel
  let blue: Channel
  let alpha: Channel = channel(0)
  if (bitfields) {
    if (bytes.length < 66) fail('truncated BMP bit field masks')
    red = channel(view.getUint32(54, true))
    green = channel(view.getUint32(58, true))
    blue = channel(view.getUint32(62, true))
    const hasAlphaMask = headerSize >= 56 || compression === BI_ALPHABITFIELDS
    if (hasAlphaMask && bytes.length >= 70) alpha = channel(view.getUint32(66, true))
  } else if (bpp === 16) {
    red = channel(0x7c00)
    green = channel(0x03e0)
    blue = channel(0x001f)
  } else {
    red = channel(0xff0000)
    green = channel(0xff00)
    blue = channel(0xff)
  }

  const stride = Math.floor((width * bpp + 31) / 32) * 4
  const needed = dataOffset + stride * (height - 1) + Math.ceil((width * bpp) / 8)
  if (needed > bytes.length) {
    fail(
      `truncated BMP: ${width}x${height} at ${bpp} bits needs ${needed} bytes but the file has ${bytes.length}`,
    )
  }

  const data = new Uint8Array(width * height)
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride
    const out = y * width
    if (palette) {
      const perByte = 8 / bpp
      const valueMask = (1 << bpp) - 1
      for (let x = 0; x < width; x++) {
        const byte = bytes[row + Math.floor(x / perByte)]
        const shift = 8 - bpp * ((x % perByte) + 1)
        data[out + x] = palette[(byte >> shift) & valueMask]
      }
    } else if (bpp === 24) {
      for (let x = 0; x < width; x++) {
        const p = row + x * 3
        data[out + x] = luma(bytes[p + 2], bytes[p + 1], bytes[p])
      }
    } else {
      const wide = bpp === 32
      for (let x = 0; x < width; x++) {
        const px = wide ? view.getUint32(row + x * 4, true) : view.getUint16(row + x * 2, true)
        const gray = luma(readChannel(px, red), readChannel(px, green), readChannel(px, blue))
        if (alpha.max === 0) {
          data[out + x] = gray
        } else {
          const a = readChannel(px, alpha)
          data[out + x] = Math.round((gray * a + 255 * (255 - a)) / 255)
        }
      }
    }
  }
  return { width, height, data }
}
