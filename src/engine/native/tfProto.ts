// TensorFlow's protobuf messages that a graph needs, written with the generic wire writer: GraphDef
// (NodeDef, AttrValue, TensorProto, TensorShapeProto) and the SavedModel that wraps one so that
// tfjs-node's binding can load it into a session. Field numbers are those of tensorflow/core/framework
// and tensorflow/core/protobuf.

import { littleEndianBytes, ProtoWriter } from '../io/protobuf'

/** The tensor element types InkLab's graphs use, with TensorFlow's DataType enum value. */
export const TF_DTYPES = { float32: 1, int32: 3, int64: 9, bool: 10 } as const
export type TfDtype = keyof typeof TF_DTYPES

/** A tensor shape; -1 is an unknown dimension (the batch). */
export type Shape = readonly number[]

/**
 * One attribute value of a node (AttrValue): a scalar of each kind, a list of ints, a dtype, a shape
 * or a constant tensor.
 */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'type'; value: TfDtype }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'shape'; value: Shape | null }
  | { kind: 'tensor'; value: ConstTensor }

/** A constant tensor's contents. */
export interface ConstTensor {
  dtype: 'float32' | 'int32'
  shape: Shape
  values: Float32Array | Int32Array
}

/** Shorthands for attribute values. */
export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  bool: (value: boolean): Attr => ({ kind: 'bool', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  type: (value: TfDtype): Attr => ({ kind: 'type', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  shape: (value: Shape | null): Attr => ({ kind: 'shape', value }),
  tensor: (value: ConstTensor): Attr => ({ kind: 'tensor', value }),
}

/** One node of a GraphDef. Inputs are `name` or `name:index`; `^name` is a control input. */
export interface NodeDef {
  name: string
  op: string
  inputs: readonly string[]
  attrs: Readonly<Record<string, Attr>>
}

/** GraphDef producer version written into the graph (TF 2.x graphs are well above this). */
const GRAPH_PRODUCER = 1087

function writeShape(w: ProtoWriter, shape: Shape | null): void {
  // TensorShapeProto: repeated Dim dim = 2 (Dim.size = 1); unknown_rank = 3.
  if (shape === null) {
    w.varint(3, true)
    return
  }
  for (const size of shape) w.message(2, (dim) => dim.varint(1, size))
}

function writeTensor(w: ProtoWriter, tensor: ConstTensor): void {
  // TensorProto: dtype = 1, tensor_shape = 2, tensor_content = 4 (raw little-endian bytes).
  w.varint(1, TF_DTYPES[tensor.dtype])
  w.message(2, (s) => writeShape(s, tensor.shape))
  w.bytes(4, littleEndianBytes(tensor.values))
}

function writeAttr(w: ProtoWriter, value: Attr): void {
  // AttrValue: list = 1, s = 2, i = 3, f = 4, b = 5, type = 6, shape = 7, tensor = 8.
  switch (value.kind) {
    case 'int':
      w.varint(3, value.value)
      return
    case 'float':
      w.float(4, value.value)
      return
    case 'bool':
      w.varint(5, value.value)
      return
    case 'string':
      w.string(2, value.value)
      return
    case 'type':
      w.varint(6, TF_DTYPES[value.value])
      return
    case 'ints':
      // ListValue.i = 3 (packed int64); an empty message is an empty list.
      w.message(1, (list) => list.packedVarints(3, value.value))
      return
    case 'shape':
      w.message(7, (s) => writeShape(s, value.value))
      return
    case 'tensor':
      w.message(8, (t) => writeTensor(t, value.value))
      return
  }
}

/** Encodes a GraphDef from its nodes. */
export function encodeGraphDef(nodes: readonly NodeDef[]): Uint8Array {
  const w = new ProtoWriter()
  for (const node of nodes) {
    // GraphDef.node = 1; NodeDef: name = 1, op = 2, input = 3, attr = 5 (map<string, AttrValue>).
    w.message(1, (n) => {
      n.string(1, node.name)
      n.string(2, node.op)
      for (const input of node.inputs) n.string(3, input)
      for (const [key, value] of Object.entries(node.attrs)) {
        n.message(5, (entry) => entry.string(1, key).message(2, (a) => writeAttr(a, value)))
      }
    })
  }
  // GraphDef.versions = 4 (VersionDef.producer = 1).
  w.message(4, (v) => v.varint(1, GRAPH_PRODUCER))
  return w.finish()
}

/**
 * Encodes a SavedModel holding one MetaGraphDef with `tags` around the given GraphDef bytes. It has no
 * saver and no variables: TensorFlow's loader restores nothing and the graph is a pure function of
 * what is fed to it.
 */
export function encodeSavedModel(graphDef: Uint8Array, tags: readonly string[]): Uint8Array {
  // SavedModel: saved_model_schema_version = 1, meta_graphs = 2.
  // MetaGraphDef: meta_info_def = 1 (MetaInfoDef.tags = 4), graph_def = 2.
  return new ProtoWriter()
    .varint(1, 1)
    .message(2, (meta) => {
      meta.message(1, (info) => {
        for (const tag of tags) info.string(4, tag)
      })
      meta.bytes(2, graphDef)
    })
    .finish()
}
