import sharp from 'sharp'

import { errorMessage } from '@shared/errors'

import { decodeBmp, isBmp, MAX_IMAGE_PIXELS } from './bmp'
import { readInputFile } from './files'
import { DatasetError, type GrayImage } from './types'

/** Image formats InkLab decodes, keyed by how they are recognised. */
type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff' | 'bmp'

/** Recognises an image format from its first bytes (never from the file name). */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = bytes
  const ascii = (start: number, text: string): boolean =>
    b.length >= start + text.length && [...text].every((ch, i) => b[start + i] === ch.charCodeAt(0))
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 'PNG')) return 'png'
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg'
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif'
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp'
  if (ascii(0, 'II') && b[2] === 42 && b[3] === 0) return 'tiff'
  if (ascii(0, 'MM') && b[2] === 0 && b[3] === 42) return 'tiff'
  if (isBmp(b)) return 'bmp'
  return undefined
}

/** Image files larger than this are refused before they are read (no handwriting is this big). */
export const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024

/**
 * What went wrong decoding a `format` file, from the decoder's message: the loader's prefixes
 * dropped, and a plain sentence where the decoder gives none ("Unknown error").
 */
export function describeDecodeFailure(format: string, message: string): string {
  const detail = message
    .replace(/^Input buffer has corrupt header:\s*/i, '')
    .replace(/^\w+load(_buffer|_source)?:\s*/i, '')
    .trim()
  const kind = format.toUpperCase()
  if (!detail || /^unknown error$/i.test(detail) || /read error/i.test(detail)) {
    return `the ${kind} file is damaged or incomplete`
  }
  if (/end of stream|premature end|truncated|unexpected end/i.test(detail)) {
    return `the ${kind} file is cut short (${detail})`
  }
  return `the ${kind} file is damaged (${detail})`
}

function tooLarge(width: number, height: number, name: string): DatasetError {
  return new DatasetError(
    `image is ${width}x${height} (${Math.round((width * height) / 1e6)} megapixels), more than the ${MAX_IMAGE_PIXELS / 1e6} megapixels InkLab accepts`,
    name,
  )
}

/**
 * Decodes image bytes to grayscale: PNG, JPEG, GIF, WebP and TIFF through sharp (EXIF orientation
 * applied, transparency flattened onto white paper, first frame only), BMP through the built-in
 * decoder. The format is recognised by content. Failures throw a DatasetError naming `nameForErrors`.
 */
export async function decodeImageBuffer(
  bytes: Uint8Array,
  nameForErrors: string,
): Promise<GrayImage> {
  if (bytes.length === 0) throw new DatasetError('empty file (0 bytes)', nameForErrors)
  const format = sniffImageFormat(bytes)
  if (!format) {
    throw new DatasetError(
      'unsupported image format (expected PNG, JPEG, GIF, WebP, TIFF or BMP)',
      nameForErrors,
    )
  }
  if (format === 'bmp') return decodeBmp(bytes, nameForErrors)
  try {
    const { data, info } = await sharp(bytes, {
      limitInputPixels: MAX_IMAGE_PIXELS,
      failOn: 'error',
    })
      .rotate()
      .flatten({ background: '#ffffff' })
      .grayscale()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    const { width, height, channels } = info
    if (channels === 1)
      return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }
    // Defensive: keep the first channel if libvips ever hands back more than one.
    const gray = new Uint8Array(width * height)
    for (let i = 0; i < gray.length; i++) gray[i] = data[i * channels]
    return { width, height, data: gray }
  } catch (err) {
    if (err instanceof DatasetError) throw err
    const message = errorMessage(err)
    if (/pixel limit/i.test(message)) {
      const meta = await sharp(bytes, { limitInputPixels: false })
        .metadata()
        .catch(() => undefined)
      if (meta?.width && meta.height) throw tooLarge(meta.width, meta.height, nameForErrors)
    }
    throw new DatasetError(
      `cannot decode ${format.toUpperCase()} image: ${describeDecodeFailure(format, message)}`,
      nameForErrors,
      { cause: err },
    )
  }
}

/** Reads and decodes an image file to grayscale (see decodeImageBuffer). */
export async function decodeImageFile(path: string): Promise<GrayImage> {
  const bytes = await readInputFile(path, { maxBytes: MAX_IMAGE_FILE_BYTES })
  return decodeImageBuffer(bytes, path)
}

/** Converts RGBA pixels (e.g. from a canvas) to grayscale, compositing alpha onto white paper. */
export function grayFromRgba(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
): GrayImage {
  const n = width * height
  if (rgba.length !== n * 4) {
    throw new RangeError(
      `grayFromRgba: expected ${n * 4} bytes for ${width}x${height}, got ${rgba.length}`,
    )
  }
  const data = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const p = i * 4
    const gray = (rgba[p] * 299 + rgba[p + 1] * 587 + rgba[p + 2] * 114) / 1000
    const a = rgba[p + 3]
    data[i] = Math.round((gray * a + 255 * (255 - a)) / 255)
  }
  return { width, height, data }
}
