import { littleEndianBytes, ProtoWriter } from '../protobuf'
import {
  exportMetadata,
  type ExportActivation,
  type ExportGraph,
  type ExportLayer,
  type WeightArray,
} from './exportGraph'

// Field numbers and enums of onnx/onnx.proto (proto2) for the messages written here.
const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  modelVersion: 5,
  docString: 6,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
}
const GRAPH = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12 }
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 }
const ATTRIBUTE = { name: 1, f: 2, i: 3, ints: 8, type: 20 }
const ATTRIBUTE_TYPE = { float: 1, int: 2, ints: 7 }
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 }
const VALUE_INFO = { name: 1, type: 2, docString: 3 }
const ELEM_FLOAT = 1

/** The operator set the graph uses (every runtime since 2020 runs it), and its IR version. */
export const ONNX_OPSET = 13
const ONNX_IR_VERSION = 7

/** Names of the graph's input and output. */
export const ONNX_INPUT = 'input'
export const ONNX_OUTPUT = 'probabilities'

/** Keys of the model's `metadata_props`. */
export const ONNX_METADATA_KEYS = {
  labels: 'labels',
  input: 'input',
  metadata: 'inklab_metadata',
} as const

type Attribute =
  { name: string; int: number } | { name: string; ints: number[] } | { name: string; float: number }

interface Node {
  op: string
  name: string
  inputs: string[]
  output: string
  attributes?: Attribute[]
}

interface Initializer {
  name: string
  dims: number[]
  values: Float32Array
}

/** Conv kernels go from tfjs/Keras [kh, kw, in, out] to ONNX's [out, in, kh, kw]. */
function convKernel(kernel: WeightArray): Initializer['values'] {
  const [kh, kw, cin, cout] = kernel.shape
  const out = new Float32Array(kernel.values.length)
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          out[((o * cin + i) * kh + y) * kw + x] =
            kernel.values[((y * kw + x) * cin + i) * cout + o]
        }
  return out
}

/**
 * ONNX `pads` [top, left, bottom, right] reproducing TensorFlow's padding: none for 'valid'; for
 * 'same', what makes the output ceil(in / stride), the odd pixel going to the bottom/right.
 */
export function tfPads(
  padding: 'valid' | 'same',
  input: [number, number],
  kernel: [number, number],
  strides: [number, number],
): number[] {
  if (padding === 'valid') return [0, 0, 0, 0]
  const total = [0, 1].map((axis) => {
    const out = Math.ceil(input[axis] / strides[axis])
    return Math.max((out - 1) * strides[axis] + kernel[axis] - input[axis], 0)
  })
  const before = total.map((t) => Math.floor(t / 2))
  return [before[0], before[1], total[0] - before[0], total[1] - before[1]]
}

const ACTIVATION_OPS: Record<
  Exclude<ExportActivation, 'linear'>,
  Omit<Node, 'name' | 'inputs' | 'output'>
> = {
  relu: { op: 'Relu' },
  elu: { op: 'Elu', attributes: [{ name: 'alpha', float: 1 }] },
  tanh: { op: 'Tanh' },
  softmax: { op: 'Softmax', attributes: [{ name: 'axis', int: -1 }] },
}

/** Builds the node list: NCHW inside (ONNX's layout for Conv and pools), NHWC at the input. */
class GraphBuilder {
  readonly nodes: Node[] = []
  readonly initializers: Initializer[] = []
  /** The tensor the next layer reads. */
  private current: string = ONNX_INPUT
  /** The tensor the first layer of a network reads: the input, channels first for an image. */
  private readonly start: string

  constructor(inputShape: number[]) {
    if (inputShape.length === 3) {
      this.add({
        op: 'Transpose',
        name: 'input/nchw',
        inputs: [ONNX_INPUT],
        output: 'input/nchw',
        attributes: [{ name: 'perm', ints: [0, 3, 1, 2] }],
      })
    }
    this.start = this.current
  }

  /** Adds a network (a sequential stack of layers read from the input); its last node writes `output`. */
  network(layers: readonly ExportLayer[], output: string): void {
    this.current = this.start
    layers.forEach((layer, i) => this.layer(layer, i === layers.length - 1 ? output : layer.name))
  }

  /** The element-wise mean of `inputs` (an ensemble's class probabilities) as `output`. */
  mean(inputs: string[], output: string): void {
    this.add({ op: 'Mean', name: output, inputs, output })
  }

  private add(node: Node): void {
    this.nodes.push(node)
    this.current = node.output
  }

  private weight(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push({ name, dims, values })
    return name
  }

  /** Applies `activation` to the current tensor, naming the result `output`. */
  private activate(layer: string, activation: ExportActivation, output: string): void {
    if (activation === 'linear') {
      // The previous node was told to write `output` directly.
      return
    }
    this.add({
      ...ACTIVATION_OPS[activation],
      name: `${layer}/${activation}`,
      inputs: [this.current],
      output,
    })
  }

  /** (N, ...) to (N, features): the end of the image part of the network. */
  private flatten(name: string, output: string): void {
    this.add({
      op: 'Flatten',
      name,
      inputs: [this.current],
      output,
      attributes: [{ name: 'axis', int: 1 }],
    })
  }

  /** Adds one layer; its last node writes `output`. */
  layer(layer: ExportLayer, output: string): void {
    const name = layer.name
    switch (layer.kind) {
      case 'conv2d': {
        const [h, w] = layer.inputShape
        const [kh, kw, cin, cout] = layer.kernel.shape
        const kernel = this.weight(`${name}/kernel`, [cout, cin, kh, kw], convKernel(layer.kernel))
        const bias = this.weight(`${name}/bias`, [cout], layer.bias.values)
        this.add({
          op: 'Conv',
          name,
          inputs: [this.current, kernel, bias],
          output: layer.activation === 'linear' ? output : `${name}/conv`,
          attributes: [
            { name: 'kernel_shape', ints: layer.kernelSize },
            { name: 'strides', ints: layer.strides },
            { name: 'pads', ints: tfPads(layer.padding, [h, w], layer.kernelSize, layer.strides) },
            { name: 'dilations', ints: [1, 1] },
          ],
        })
        this.activate(name, layer.activation, output)
        return
      }
      case 'maxPool2d':
        this.add({
          op: 'MaxPool',
          name,
          inputs: [this.current],
          output,
          attributes: [
            { name: 'kernel_shape', ints: layer.poolSize },
            { name: 'strides', ints: layer.strides },
            { name: 'pads', ints: [0, 0, 0, 0] },
          ],
        })
        return
      case 'batchNorm': {
        // BatchNormalization normalises axis 1: channels in NCHW, features in (N, C).
        const inputs = [
          this.current,
          this.weight(`${name}/gamma`, layer.gamma.shape, layer.gamma.values),
          this.weight(`${name}/beta`, layer.beta.shape, layer.beta.values),
          this.weight(`${name}/moving_mean`, layer.movingMean.shape, layer.movingMean.values),
          this.weight(
            `${name}/moving_variance`,
            layer.movingVariance.shape,
            layer.movingVariance.values,
          ),
        ]
        this.add({
          op: 'BatchNormalization',
          name,
          inputs,
          output,
          attributes: [{ name: 'epsilon', float: layer.epsilon }],
        })
        return
      }
      case 'dropout':
        // Dropout does nothing at inference.
        this.add({ op: 'Identity', name, inputs: [this.current], output })
        return
      case 'flatten':
        // Keras flattens (H, W, C) in that order: back to NHWC before flattening.
        this.add({
          op: 'Transpose',
          name: `${name}/nhwc`,
          inputs: [this.current],
          output: `${name}/nhwc`,
          attributes: [{ name: 'perm', ints: [0, 2, 3, 1] }],
        })
        this.flatten(name, output)
        return
      case 'globalAveragePool':
        this.add({
          op: 'GlobalAveragePool',
          name: `${name}/pool`,
          inputs: [this.current],
          output: `${name}/pool`,
        })
        this.flatten(name, output)
        return
      case 'dense': {
        const kernel = this.weight(`${name}/kernel`, layer.kernel.shape, layer.kernel.values)
        const bias = this.weight(`${name}/bias`, layer.bias.shape, layer.bias.values)
        this.add({
          op: 'Gemm',
          name,
          inputs: [this.current, kernel, bias],
          output: layer.activation === 'linear' ? output : `${name}/gemm`,
        })
        this.activate(name, layer.activation, output)
        return
      }
    }
  }
}

function writeAttribute(w: ProtoWriter, attribute: Attribute): void {
  w.string(ATTRIBUTE.name, attribute.name)
  if ('ints' in attribute) {
    w.repeatedVarints(ATTRIBUTE.ints, attribute.ints).varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.ints)
  } else if ('int' in attribute) {
    w.varint(ATTRIBUTE.i, attribute.int).varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.int)
  } else {
    w.float(ATTRIBUTE.f, attribute.float).varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.float)
  }
}

function writeNode(w: ProtoWriter, node: Node): void {
  for (const input of node.inputs) w.string(NODE.input, input)
  w.string(NODE.output, node.output).string(NODE.name, node.name).string(NODE.opType, node.op)
  for (const attribute of node.attributes ?? []) {
    w.message(NODE.attribute, (a) => writeAttribute(a, attribute))
  }
}

/** A float tensor's ValueInfoProto; `null` dims are the symbolic batch size. */
function writeValueInfo(w: ProtoWriter, name: string, dims: (number | null)[], doc: string): void {
  w.string(VALUE_INFO.name, name)
  w.message(VALUE_INFO.type, (type) =>
    type.message(1 /* tensor_type */, (tensor) => {
      tensor.varint(1 /* elem_type */, ELEM_FLOAT)
      tensor.message(2 /* shape */, (shape) => {
        for (const dim of dims) {
          shape.message(1 /* dim */, (d) => {
            if (dim === null) d.string(2 /* dim_param */, 'batch')
            else d.varint(1 /* dim_value */, dim)
          })
        }
      })
    }),
  )
  w.string(VALUE_INFO.docString, doc)
}

/**
 * Encodes `graph` as an ONNX model (opset 13): input `input` (N, 28, 28, 1) float32 in [0, 1],
 * white ink on black, as InkLab feeds its own models; output `probabilities` (N, classes), the
 * mean of the networks' for an ensemble.
 * Labels, the input convention and InkLab's metadata are in `metadata_props`.
 */
export function encodeOnnxModel(graph: ExportGraph): Uint8Array {
  const builder = new GraphBuilder(graph.inputShape)
  if (graph.members) {
    // Each network writes its probabilities under its output layer's name; the output is their mean.
    const outputs = graph.members.map((layers) => layers[layers.length - 1].name)
    graph.members.forEach((layers, k) => builder.network(layers, outputs[k]))
    builder.mean(outputs, ONNX_OUTPUT)
  } else builder.network(graph.layers, ONNX_OUTPUT)
  const meta = exportMetadata(graph)
  const classes = graph.metadata.labels.length
  const inputDoc = `${graph.inputShape.join('x')} images, float32 in [0, 1], white ink on black (pixel / 255)`
  const model = new ProtoWriter()
    .varint(MODEL.irVersion, ONNX_IR_VERSION)
    .string(MODEL.producerName, 'InkLab')
    .string(MODEL.producerVersion, graph.metadata.inklabVersion)
    .varint(MODEL.modelVersion, 1)
    .string(MODEL.docString, `${graph.metadata.name}: handwriting classifier exported by InkLab`)
    .message(MODEL.graph, (g) => {
      for (const node of builder.nodes) g.message(GRAPH.node, (n) => writeNode(n, node))
      g.string(GRAPH.name, graph.metadata.name)
      for (const init of builder.initializers) {
        g.message(GRAPH.initializer, (t) =>
          t
            .repeatedVarints(TENSOR.dims, init.dims)
            .varint(TENSOR.dataType, ELEM_FLOAT)
            .string(TENSOR.name, init.name)
            .bytes(TENSOR.rawData, littleEndianBytes(init.values)),
        )
      }
      g.string(GRAPH.docString, inputDoc)
      g.message(GRAPH.input, (v) =>
        writeValueInfo(v, ONNX_INPUT, [null, ...graph.inputShape], inputDoc),
      )
      g.message(GRAPH.output, (v) =>
        writeValueInfo(
          v,
          ONNX_OUTPUT,
          [null, classes],
          `softmax over labels ${JSON.stringify(graph.metadata.labels)}`,
        ),
      )
    })
    .message(MODEL.opsetImport, (o) =>
      o.string(1 /* domain */, '').varint(2 /* version */, ONNX_OPSET),
    )
  const props: [string, string][] = [
    [ONNX_METADATA_KEYS.labels, JSON.stringify(graph.metadata.labels)],
    [ONNX_METADATA_KEYS.input, inputDoc],
    [ONNX_METADATA_KEYS.metadata, JSON.stringify(meta)],
  ]
  for (const [key, value] of props) {
    model.message(MODEL.metadataProps, (p) =>
      p.string(1 /* key */, key).string(2 /* value */, value),
    )
  }
  return model.finish()
}
