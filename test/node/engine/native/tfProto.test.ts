import { describe, expect, it } from 'vitest'

import { readProtoFields, type ProtoField } from '@engine/io/protobuf'
import { GraphBuilder } from '@engine/native/graphBuilder'
import { attr, encodeGraphDef, encodeSavedModel } from '@engine/native/tfProto'

const text = (f: ProtoField): string => new TextDecoder().decode(f.value as Uint8Array)
const bytes = (f: ProtoField): Uint8Array => f.value as Uint8Array
const fieldsOf = (b: Uint8Array, n: number): ProtoField[] =>
  readProtoFields(b).filter((f) => f.field === n)

/** NodeDef fields as { name, op, inputs, attrs: key -> AttrValue fields }. */
function decodeNode(b: Uint8Array): {
  name: string
  op: string
  inputs: string[]
  attrs: Record<string, ProtoField[]>
} {
  const fields = readProtoFields(b)
  const attrs: Record<string, ProtoField[]> = {}
  for (const entry of fields.filter((f) => f.field === 5)) {
    const [key, value] = readProtoFields(bytes(entry))
    attrs[text(key)] = readProtoFields(bytes(value))
  }
  return {
    name: text(fields.find((f) => f.field === 1)!),
    op: text(fields.find((f) => f.field === 2)!),
    inputs: fields.filter((f) => f.field === 3).map(text),
    attrs,
  }
}

describe('encodeGraphDef', () => {
  it('writes NodeDefs with their inputs and attributes in TensorFlow’s field numbers', () => {
    const graph = encodeGraphDef([
      {
        name: 'conv',
        op: 'Conv2D',
        inputs: ['x', 'kernel:1', '^init'],
        attrs: {
          T: attr.type('float32'),
          strides: attr.ints([1, 2, 2, 1]),
          padding: attr.string('SAME'),
          use_cudnn_on_gpu: attr.bool(false),
          epsilon: attr.float(0.5),
          N: attr.int(2),
          shape: attr.shape([-1, 28]),
          unknown: attr.shape(null),
        },
      },
    ])
    const [node] = fieldsOf(graph, 1).map((f) => decodeNode(bytes(f)))
    expect(node).toMatchObject({ name: 'conv', op: 'Conv2D', inputs: ['x', 'kernel:1', '^init'] })
    expect(node.attrs.T).toEqual([{ field: 6, wireType: 0, value: 1n }])
    const list = readProtoFields(bytes(node.attrs.strides[0]))
    expect(list[0].field).toBe(3)
    expect([...bytes(list[0])]).toEqual([1, 2, 2, 1])
    expect(text(node.attrs.padding[0])).toBe('SAME')
    expect(node.attrs.use_cudnn_on_gpu[0]).toMatchObject({ field: 5, value: 0n })
    expect(Buffer.from(bytes(node.attrs.epsilon[0])).readFloatLE(0)).toBe(0.5)
    expect(node.attrs.N[0]).toMatchObject({ field: 3, value: 2n })
    const dims = readProtoFields(bytes(node.attrs.shape[0])).map(
      (d) => readProtoFields(bytes(d))[0].value,
    )
    expect(dims).toEqual([2n ** 64n - 1n, 28n])
    expect(readProtoFields(bytes(node.attrs.unknown[0]))).toEqual([
      { field: 3, wireType: 0, value: 1n },
    ])
    const [versions] = fieldsOf(graph, 4)
    expect(readProtoFields(bytes(versions))[0].field).toBe(1)
  })

  it('writes constant tensors as dtype, shape and little-endian content', () => {
    const g = new GraphBuilder()
    g.constFloat([1.5, -2], [2])
    const [node] = fieldsOf(g.finish(), 1).map((f) => decodeNode(bytes(f)))
    const tensor = readProtoFields(bytes(node.attrs.value[0]))
    expect(tensor[0]).toMatchObject({ field: 1, value: 1n })
    const content = Buffer.from(bytes(tensor.find((f) => f.field === 4)!))
    expect([content.readFloatLE(0), content.readFloatLE(4)]).toEqual([1.5, -2])
  })
})

describe('GraphBuilder', () => {
  it('keeps node names unique', () => {
    const g = new GraphBuilder()
    const names = [g.op('Relu', ['x']), g.op('Relu', ['x']), g.op('Relu', ['x'])]
    expect(names).toEqual(['Relu', 'Relu_1', 'Relu_2'])
    expect(g.size).toBe(3)
  })
})

describe('encodeSavedModel', () => {
  it('wraps the graph in one tagged MetaGraphDef with no saver', () => {
    const graph = new GraphBuilder()
    graph.placeholder('x', 'float32', [1])
    const graphDef = graph.finish()
    const saved = readProtoFields(encodeSavedModel(graphDef, ['train']))
    expect(saved[0]).toMatchObject({ field: 1, value: 1n })
    const meta = readProtoFields(bytes(saved[1]))
    expect(meta.map((f) => f.field)).toEqual([1, 2])
    expect(readProtoFields(bytes(meta[0])).map(text)).toEqual(['train'])
    expect(Buffer.from(bytes(meta[1])).equals(Buffer.from(graphDef))).toBe(true)
  })
})
