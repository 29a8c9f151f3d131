import { describe, expect, it } from 'vitest'

import { littleEndianBytes, ProtoWriter, readProtoFields } from '@engine/io/protobuf'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

// Expected bytes are the examples of the protobuf encoding guide (protobuf.dev/programming-guides/encoding).
describe('ProtoWriter', () => {
  it('writes varints, strings and packed fields as the encoding guide does', () => {
    expect(hex(new ProtoWriter().varint(1, 150).finish())).toBe('089601')
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67')
    expect(hex(new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish())).toBe(
      '2206038e029ea705',
    )
    expect(hex(new ProtoWriter().message(3, (m) => m.varint(1, 150)).finish())).toBe('1a03089601')
  })

  it('writes negative integers as 10-byte two’s complement and booleans as 0/1', () => {
    expect(hex(new ProtoWriter().varint(1, -1).finish())).toBe('08ffffffffffffffffff01')
    expect(hex(new ProtoWriter().varint(1, true).varint(2, false).finish())).toBe('08011000')
  })

  it('writes floats and doubles little-endian, and omits empty packed fields', () => {
    expect(hex(new ProtoWriter().float(1, 1).finish())).toBe('0d0000803f')
    expect(hex(new ProtoWriter().double(1, 1).finish())).toBe('09000000000000f03f')
    expect(new ProtoWriter().packedFloats(1, []).packedVarints(2, []).finish()).toHaveLength(0)
  })

  it('writes unpacked repeated integers as one tagged varint each (proto2 without packed)', () => {
    expect(hex(new ProtoWriter().repeatedVarints(1, [3, 270]).finish())).toBe('0803088e02')
    const fields = readProtoFields(new ProtoWriter().repeatedVarints(8, [2, -1]).finish())
    expect(fields.map((f) => [f.field, f.value])).toEqual([
      [8, 2n],
      [8, 2n ** 64n - 1n],
    ])
  })

  it('refuses field numbers that protobuf does not allow', () => {
    expect(() => new ProtoWriter().varint(0, 1)).toThrow(/field number 0/)
  })
})

describe('readProtoFields', () => {
  it('reads back what the writer wrote', () => {
    const bytes = new ProtoWriter()
      .varint(1, 2n ** 40n)
      .string(2, 'conv')
      .packedFloats(3, [0.5, -2])
      .float(4, 3)
      .finish()
    const fields = readProtoFields(bytes)
    expect(fields.map((f) => [f.field, f.wireType])).toEqual([
      [1, 0],
      [2, 2],
      [3, 2],
      [4, 5],
    ])
    expect(fields[0].value).toBe(2n ** 40n)
    expect(new TextDecoder().decode(fields[1].value as Uint8Array)).toBe('conv')
    expect(Array.from(new Float32Array((fields[2].value as Uint8Array).slice().buffer))).toEqual([
      0.5, -2,
    ])
  })

  it('throws on truncated input instead of reading past the end', () => {
    const bytes = new ProtoWriter().string(1, 'hello').finish()
    expect(() => readProtoFields(bytes.subarray(0, 4))).toThrow(/truncated/)
  })
})

describe('littleEndianBytes', () => {
  it('lays out floats and ints little-endian', () => {
    expect(hex(littleEndianBytes(new Float32Array([1])))).toBe('0000803f')
    expect(hex(littleEndianBytes(new Int32Array([-2])))).toBe('feffffff')
  })
})
