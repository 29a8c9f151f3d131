import { attr, encodeGraphDef, type Attr, type NodeDef, type Shape, type TfDtype } from './tfProto'

/** One output of a node, as written in a NodeDef input: `name` (output 0) or `name:index`. */
export type Output = string

/** A window op's padding, in TensorFlow's spelling. */
export type TfPadding = 'SAME' | 'VALID'

/**
 * Builds a TensorFlow GraphDef node by node. Each op method adds one node and returns its output(s);
 * the `T` attributes are float32 unless said otherwise. Node names are unique: a name asked for twice
 * gets a numeric suffix.
 */
export class GraphBuilder {
  private readonly nodes: NodeDef[] = []
  private readonly used = new Set<string>()

  /** Adds a node of type `op` and returns its name (its output 0). */
  node(op: string, inputs: readonly Output[], attrs: Record<string, Attr> = {}, name = op): string {
    let unique = name
    for (let i = 1; this.used.has(unique); i++) unique = `${name}_${i}`
    this.used.add(unique)
    this.nodes.push({ name: unique, op, inputs, attrs })
    return unique
  }

  /** A fed input. */
  placeholder(name: string, dtype: TfDtype, shape: Shape | null): Output {
    return this.node('Placeholder', [], { dtype: attr.type(dtype), shape: attr.shape(shape) }, name)
  }

  /** A float32 constant (a scalar when `shape` is empty). */
  constFloat(values: number | readonly number[], shape: Shape = []): Output {
    const array = Float32Array.from(typeof values === 'number' ? [values] : values)
    return this.node('Const', [], {
      dtype: attr.type('float32'),
      value: attr.tensor({ dtype: 'float32', shape, values: array }),
    })
  }

  /** An int32 constant (a vector when `values` is an array, a scalar otherwise). */
  constInt(values: number | readonly number[]): Output {
    const array = Int32Array.from(typeof values === 'number' ? [values] : values)
    const shape = typeof values === 'number' ? [] : [array.length]
    return this.node('Const', [], {
      dtype: attr.type('int32'),
      value: attr.tensor({ dtype: 'int32', shape, values: array }),
    })
  }

  /** A float op with one output and `T: float32` (Relu, Add, MatMul...). */
  op(op: string, inputs: readonly Output[], attrs: Record<string, Attr> = {}): Output {
    return this.node(op, inputs, { T: attr.type('float32'), ...attrs })
  }

  /** `x + y`, `x - y`, `x * y`, `x / y` (with broadcasting). */
  add(x: Output, y: Output): Output {
    return this.op('AddV2', [x, y])
  }

  sub(x: Output, y: Output): Output {
    return this.op('Sub', [x, y])
  }

  mul(x: Output, y: Output): Output {
    return this.op('Mul', [x, y])
  }

  div(x: Output, y: Output): Output {
    return this.op('RealDiv', [x, y])
  }

  /** `tensor` with a new shape; `shape` is an int32 vector (constant or computed). */
  reshape(tensor: Output, shape: Output): Output {
    return this.op('Reshape', [tensor, shape], { Tshape: attr.type('int32') })
  }

  /** The shape of a float tensor, as an int32 vector. */
  shape(tensor: Output): Output {
    return this.op('Shape', [tensor], { out_type: attr.type('int32') })
  }

  /** Mean or sum of a float tensor over the constant `axes`. */
  reduce(op: 'Mean' | 'Sum', tensor: Output, axes: readonly number[], keepDims = false): Output {
    return this.op(op, [tensor, this.constInt(axes)], {
      Tidx: attr.type('int32'),
      keep_dims: attr.bool(keepDims),
    })
  }

  /** `tensor` cast from `from` to `to`. */
  cast(tensor: Output, from: TfDtype, to: TfDtype): Output {
    return this.node('Cast', [tensor], { SrcT: attr.type(from), DstT: attr.type(to) })
  }

  /** A named pass-through, so that a result can be fetched by a stable name. */
  identity(tensor: Output, name: string, dtype: TfDtype = 'float32'): Output {
    return this.node('Identity', [tensor], { T: attr.type(dtype) }, name)
  }

  /** The encoded GraphDef. */
  finish(): Uint8Array {
    return encodeGraphDef(this.nodes)
  }

  /** Number of nodes so far. */
  get size(): number {
    return this.nodes.length
  }
}

/** Output `index` of node `name`. */
export function outputOf(name: string, index: number): Output {
  return index === 0 ? name : `${name}:${index}`
}
