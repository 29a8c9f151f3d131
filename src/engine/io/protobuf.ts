// Protocol Buffers wire format, written and read by hand: the model formats InkLab writes (ONNX,
// TensorFlow GraphDef/SavedModel) are protobuf messages, and the few message types they need do not
// justify a code generator. Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_BYTES = 2
const WIRE_FIXED32 = 5

const textEncoder = new TextEncoder()

/** Builds one protobuf message field by field, in the order the calls are made. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = []
  private length = 0

  /** An integer field (int32, int64, uint32, uint64, bool, enum). Negative values take 10 bytes. */
  varint(field: number, value: number | bigint | boolean): this {
    this.tag(field, WIRE_VARINT)
    this.rawVarint(typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value))
    return this
  }

  /** A `float` field. */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32)
    const view = new DataView(new ArrayBuffer(4))
    view.setFloat32(0, value, true)
    this.push(new Uint8Array(view.buffer))
    return this
  }

  /** A `double` field. */
  double(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64)
    const view = new DataView(new ArrayBuffer(8))
    view.setFloat64(0, value, true)
    this.push(new Uint8Array(view.buffer))
    return this
  }

  /** A `string` field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value))
  }

  /** A `bytes` field. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_BYTES)
    this.rawVarint(BigInt(value.length))
    this.push(value)
    return this
  }

  /** A nested message field, built by `build` on a fresh writer. */
  message(field: number, build: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter()
    build(inner)
    return this.bytes(field, inner.finish())
  }

  /**
   * An unpacked `repeated int32/int64` field: one tag per value, the encoding proto2 uses for
   * repeated fields not declared `[packed = true]` (ONNX's `dims` and `ints`, for example).
   */
  repeatedVarints(field: number, values: ArrayLike<number | bigint>): this {
    for (let i = 0; i < values.length; i++) this.varint(field, values[i])
    return this
  }

  /** A packed `repeated int32/int64` field (omitted when empty, as protobuf does). */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    if (values.length === 0) return this
    const inner = new ProtoWriter()
    for (let i = 0; i < values.length; i++) inner.rawVarint(BigInt(values[i]))
    return this.bytes(field, inner.finish())
  }

  /** A packed `repeated float` field (omitted when empty). */
  packedFloats(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this
    const floats = Float32Array.from(values)
    return this.bytes(field, littleEndianBytes(floats))
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const chunk of this.chunks) {
      out.set(chunk, offset)
      offset += chunk.length
    }
    return out
  }

  private tag(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1)
      throw new Error(`invalid protobuf field number ${field}`)
    this.rawVarint(BigInt(field) * 8n + BigInt(wireType))
  }

  private rawVarint(value: bigint): void {
    // Negative int32/int64 values are sent as their 64-bit two's complement.
    let v = value < 0n ? value + (1n << 64n) : value
    const bytes: number[] = []
    do {
      let byte = Number(v & 0x7fn)
      v >>= 7n
      if (v > 0n) byte |= 0x80
      bytes.push(byte)
    } while (v > 0n)
    this.push(Uint8Array.from(bytes))
  }

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes)
    this.length += bytes.length
  }
}

/** The bytes of a typed array in little-endian order (protobuf's and ONNX's raw_data order). */
export function littleEndianBytes(values: Float32Array | Int32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4)
  const view = new DataView(out.buffer)
  const isFloat = values instanceof Float32Array
  for (let i = 0; i < values.length; i++) {
    if (isFloat) view.setFloat32(i * 4, values[i], true)
    else view.setInt32(i * 4, values[i], true)
  }
  return out
}

/** One decoded field: varints as bigint, fixed32/fixed64 as raw little-endian bytes. */
export interface ProtoField {
  field: number
  wireType: number
  value: bigint | Uint8Array
}

/**
 * Splits one message into its fields, without a schema (nested messages stay as bytes: decode them
 * again). Throws on truncated input. For reading back what `ProtoWriter` wrote.
 */
export function readProtoFields(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = []
  let pos = 0
  const varint = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (pos >= bytes.length) throw new Error('truncated protobuf varint')
      const byte = bytes[pos++]
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
      if (shift > 63n) throw new Error('protobuf varint longer than 10 bytes')
    }
  }
  const take = (n: number): Uint8Array => {
    if (pos + n > bytes.length) throw new Error('truncated protobuf field')
    const out = bytes.subarray(pos, pos + n)
    pos += n
    return out
  }
  while (pos < bytes.length) {
    const key = varint()
    const field = Number(key >> 3n)
    const wireType = Number(key & 7n)
    let value: bigint | Uint8Array
    if (wireType === WIRE_VARINT) value = varint()
    else if (wireType === WIRE_FIXED64) value = take(8)
    else if (wireType === WIRE_BYTES) value = take(Number(varint()))
    else if (wireType === WIRE_FIXED32) value = take(4)
    else throw new Error(`unsupported protobuf wire type ${wireType}`)
    fields.push({ field, wireType, value })
  }
  return fields
}
