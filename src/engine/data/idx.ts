import { promisify } from 'node:util'
import { gunzip as gunzipCallback, gunzipSync } from 'node:zlib'

import { errorMessage } from '@shared/errors'

import { readInputFile } from './files'
import { DatasetError } from './types'

const gunzip = promisify(gunzipCallback)

/** IDX data type code for unsigned bytes, the only one InkLab reads from user files. */
export const IDX_TYPE_UINT8 = 0x08
/** IDX data type code for big-endian signed 16-bit integers (used for stored labels of >256 classes). */
export const IDX_TYPE_INT16 = 0x0b
/** Refuse any IDX payload larger than this (a header claiming more is corrupt or hostile). */
export const MAX_IDX_BYTES = 2 ** 31

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
}
const TYPE_SIZES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }

/** A parsed IDX file of unsigned bytes. `data` is a view into the decoded bytes (no copy). */
export interface IdxArray {
  /** Dimension sizes from the header, e.g. [60000, 28, 28] for images or [60000] for labels. */
  dims: number[]
  data: Uint8Array
}

/** A parsed IDX header: type code, dimensions and where the payload starts. */
interface IdxHeader {
  type: number
  dims: number[]
  offset: number
  payloadBytes: number
}

/** True when the bytes start with the gzip magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

function hex(value: number, digits: number): string {
  return '0x' + value.toString(16).toUpperCase().padStart(digits, '0')
}

/** Describes what a header claims, for error messages ("10000 images of 28x28"). */
function describeDims(dims: number[]): string {
  if (dims.length === 1) return `${dims[0]} labels`
  if (dims.length === 3) return `${dims[0]} images of ${dims[1]}x${dims[2]}`
  return `an array of ${dims.join('x')}`
}

function readHeader(bytes: Uint8Array, file: string): IdxHeader {
  if (bytes.length < 4) {
    throw new DatasetError(`not an IDX file: only ${bytes.length} bytes long`, file)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = view.getUint32(0)
  const type = bytes[2]
  const ndims = bytes[3]
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in TYPE_SIZES) || ndims < 1 || ndims > 4) {
    throw new DatasetError(
      `not an IDX file: wrong magic number ${hex(magic, 8)} (expected 0x00000801 for labels or 0x00000803 for images)`,
      file,
    )
  }
  const offset = 4 + 4 * ndims
  if (bytes.length < offset) {
    throw new DatasetError(
      `truncated: the IDX header needs ${offset} bytes but the file has ${bytes.length}`,
      file,
    )
  }
  const dims: number[] = []
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d))
  const payloadBytes = dims.reduce((a, b) => a * b, 1) * TYPE_SIZES[type]
  if (payloadBytes > MAX_IDX_BYTES) {
    throw new DatasetError(
      `header claims ${describeDims(dims)} (${payloadBytes} bytes), more than the ${MAX_IDX_BYTES} bytes InkLab accepts; the file is corrupt or not a dataset`,
      file,
    )
  }
  return { type, dims, offset, payloadBytes }
}

function checkLength(header: IdxHeader, bytes: Uint8Array, file: string): void {
  const available = bytes.length - header.offset
  const claim = `${describeDims(header.dims)} (${header.payloadBytes} bytes)`
  if (available < header.payloadBytes) {
    throw new DatasetError(
      `truncated: header says ${claim} but only ${available} bytes follow`,
      file,
    )
  }
  if (available > header.payloadBytes) {
    throw new DatasetError(
      `size mismatch: header says ${claim} but ${available} bytes follow`,
      file,
    )
  }
}

function gunzipBytes(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_IDX_BYTES + 64 })
  } catch (err) {
    throw gzipError(err, file)
  }
}

function gzipError(err: unknown, file: string): DatasetError {
  if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
    return new DatasetError(
      `decompresses to more than the ${MAX_IDX_BYTES} bytes InkLab accepts`,
      file,
      { cause: err },
    )
  }
  const reason = errorMessage(err)
  return new DatasetError(`corrupt or truncated gzip data (${reason})`, file, { cause: err })
}

/**
 * Parses an IDX file of unsigned bytes (gunzipping it first when it starts with the gzip magic).
 * Every problem (wrong magic, unsupported type, truncation, size mismatch) throws a DatasetError
 * naming `file`.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const raw = isGzip(bytes) ? gunzipBytes(bytes, file) : bytes
  return parseRawIdx(raw, file)
}

function parseRawIdx(raw: Uint8Array, file: string): IdxArray {
  const header = readHeader(raw, file)
  if (header.type !== IDX_TYPE_UINT8) {
    throw new DatasetError(
      `unsupported IDX data type ${hex(header.type, 2)} (${TYPE_NAMES[header.type]}); only unsigned bytes (0x08) are supported`,
      file,
    )
  }
  checkLength(header, raw, file)
  return {
    dims: header.dims,
    data: raw.subarray(header.offset, header.offset + header.payloadBytes),
  }
}

/** Parses a 1-D IDX label file of unsigned bytes or big-endian int16 (InkLab's own store only). */
export function parseIdxLabels16(bytes: Uint8Array, file: string): Uint8Array | Uint16Array {
  const raw = isGzip(bytes) ? gunzipBytes(bytes, file) : bytes
  const header = readHeader(raw, file)
  if (header.dims.length !== 1) {
    throw new DatasetError(
      `expected a 1-D label file but the header has ${header.dims.length} dimensions`,
      file,
    )
  }
  if (header.type === IDX_TYPE_UINT8) return parseRawIdx(raw, file).data
  if (header.type !== IDX_TYPE_INT16) {
    throw new DatasetError(`unsupported IDX label type ${hex(header.type, 2)}`, file)
  }
  checkLength(header, raw, file)
  const view = new DataView(raw.buffer, raw.byteOffset + header.offset, header.payloadBytes)
  const out = new Uint16Array(header.dims[0])
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i)
  return out
}

/** Reads a file, gunzipping it off the main thread when it is gzip-compressed. */
export async function readMaybeGzipped(path: string): Promise<Uint8Array> {
  const bytes = await readInputFile(path)
  if (!isGzip(bytes)) return bytes
  try {
    return await gunzip(bytes, { maxOutputLength: MAX_IDX_BYTES + 64 })
  } catch (err) {
    throw gzipError(err, path)
  }
}

/** Reads and parses an IDX file from disk (plain or gzip-compressed). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  return parseRawIdx(await readMaybeGzipped(path), path)
}

/** Encodes an IDX file: uint8 data, or int16 big-endian when `data` is a Uint16Array. */
export function encodeIdx(dims: number[], data: Uint8Array | Uint16Array): Uint8Array {
  const wide = data instanceof Uint16Array
  const headerBytes = 4 + 4 * dims.length
  const out = new Uint8Array(headerBytes + data.length * (wide ? 2 : 1))
  const view = new DataView(out.buffer)
  out[2] = wide ? IDX_TYPE_INT16 : IDX_TYPE_UINT8
  out[3] = dims.length
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d))
  if (wide) {
    for (let i = 0; i < data.length; i++) view.setInt16(headerBytes + 2 * i, data[i])
  } else {
    out.set(data, headerBytes)
  }
  return out
}
