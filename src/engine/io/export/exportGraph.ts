import { EXPORT_INPUT } from '@shared/schemas/export'
import type { ModelMetadata } from '@shared/schemas/model'
import type * as tf from '@tensorflow/tfjs'

/** A model cannot be exported: an unsupported layer or option, named in the message. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ExportError'
  }
}

/** Activations InkLab's layers use (the schema's hidden-layer ones and the output's softmax). */
export type ExportActivation = 'linear' | 'relu' | 'elu' | 'tanh' | 'softmax'
const ACTIVATIONS: readonly ExportActivation[] = ['linear', 'relu', 'elu', 'tanh', 'softmax']

/** A weight array in the layout tfjs and Keras share (conv kernels [kh, kw, in, out]). */
export interface WeightArray {
  shape: number[]
  values: Float32Array
}

/** One layer's place in the network: shapes are per sample (no batch axis). */
interface LayerBase {
  /** The layer's name in InkLab's model, kept in every export (Keras layer, ONNX node). */
  name: string
  inputShape: number[]
  outputShape: number[]
}

/** A layer as the exporters see it: its kind, options and weights, nothing tfjs-specific. */
export type ExportLayer = LayerBase &
  (
    | {
        kind: 'conv2d'
        filters: number
        kernelSize: [number, number]
        strides: [number, number]
        padding: 'valid' | 'same'
        activation: ExportActivation
        kernel: WeightArray
        bias: WeightArray
      }
    | { kind: 'maxPool2d'; poolSize: [number, number]; strides: [number, number] }
    | {
        kind: 'batchNorm'
        epsilon: number
        momentum: number
        gamma: WeightArray
        beta: WeightArray
        movingMean: WeightArray
        movingVariance: WeightArray
      }
    | { kind: 'dropout'; rate: number }
    | { kind: 'flatten' }
    | { kind: 'globalAveragePool' }
    | {
        kind: 'dense'
        units: number
        activation: ExportActivation
        kernel: WeightArray
        bias: WeightArray
      }
  )

export type ExportLayerKind = ExportLayer['kind']

/** A sequential model ready to be written in another format. */
export interface ExportGraph {
  /** Per-sample input shape, [28, 28, 1] for InkLab models. */
  inputShape: number[]
  layers: ExportLayer[]
  /** InkLab's metadata: labels, preprocessing, provenance. */
  metadata: ModelMetadata
}

/** The tfjs layer classes InkLab builds, and the kind each becomes. */
const LAYER_KINDS: Record<string, ExportLayerKind> = {
  Conv2D: 'conv2d',
  MaxPooling2D: 'maxPool2d',
  BatchNormalization: 'batchNorm',
  Dropout: 'dropout',
  Flatten: 'flatten',
  GlobalAveragePooling2D: 'globalAveragePool',
  Dense: 'dense',
}

type Config = Record<string, unknown>

/** Reads one layer's options and weights, refusing what the exporters do not write. */
class LayerReader {
  readonly label: string

  constructor(
    private readonly layer: tf.layers.Layer,
    index: number,
    private readonly config: Config,
  ) {
    this.label = `layer ${index + 1} "${layer.name}" (${layer.getClassName()})`
  }

  fail(problem: string): never {
    throw new ExportError(`cannot export ${this.label}: ${problem}`)
  }

  /** A config value that must equal `expected` (options InkLab never changes). */
  expect(key: string, expected: unknown): void {
    const value = this.config[key]
    if (JSON.stringify(value) !== JSON.stringify(expected)) {
      this.fail(
        `${key} ${JSON.stringify(value)} is not supported (only ${JSON.stringify(expected)})`,
      )
    }
  }

  number(key: string): number {
    const value = this.config[key]
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(`${key} is not a number`)
    return value
  }

  pair(key: string): [number, number] {
    const value = this.config[key]
    const pair = typeof value === 'number' ? [value, value] : value
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      !pair.every((n) => Number.isInteger(n) && n > 0)
    ) {
      this.fail(`${key} ${JSON.stringify(value)} is not a pair of positive integers`)
    }
    return [pair[0], pair[1]]
  }

  padding(): 'valid' | 'same' {
    const value = this.config.padding
    if (value !== 'valid' && value !== 'same')
      this.fail(`padding "${String(value)}" is not supported`)
    return value
  }

  activation(): ExportActivation {
    const value = this.config.activation
    if (!ACTIVATIONS.includes(value as ExportActivation)) {
      this.fail(`activation "${String(value)}" is not supported (only ${ACTIVATIONS.join(', ')})`)
    }
    return value as ExportActivation
  }

  /** The weight whose name ends in `/role` (kernel, bias, gamma, ...). */
  weight(role: string): WeightArray {
    const variable = this.layer.weights.find((w) => w.originalName.split('/').pop() === role)
    if (!variable) this.fail(`it has no ${role} weights`)
    const tensor = variable.read()
    return { shape: [...tensor.shape], values: Float32Array.from(tensor.dataSync()) }
  }

  /** The kernel and bias of a Conv2D or Dense layer (InkLab always gives them a bias). */
  kernelAndBias(): { kernel: WeightArray; bias: WeightArray } {
    this.expect('useBias', true)
    this.weightRoles(['kernel', 'bias'])
    return { kernel: this.weight('kernel'), bias: this.weight('bias') }
  }

  /** Checks that the layer holds exactly the weights `roles` name, no more. */
  weightRoles(roles: string[]): void {
    const found = this.layer.weights.map((w) => w.originalName.split('/').pop())
    if (found.length !== roles.length || !roles.every((role) => found.includes(role))) {
      this.fail(`its weights (${found.join(', ')}) are not the expected ${roles.join(', ')}`)
    }
  }
}

function shapeOf(shape: tf.Shape | tf.Shape[], what: string): number[] {
  const single = (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape
  const rest = single.slice(1)
  if (!rest.every((n): n is number => typeof n === 'number' && n > 0)) {
    throw new ExportError(`cannot export: the ${what} shape ${JSON.stringify(single)} is not fixed`)
  }
  return rest
}

/**
 * Describes a loaded InkLab model for the exporters: a sequential stack of the layers InkLab's
 * presets and custom editor build (conv2d, maxPool2d, batchNorm, dropout, flatten,
 * globalAveragePool, dense) with their weights. Anything else, or an option InkLab never sets
 * (dilation, no bias, channels-first, ...), is refused with an ExportError naming the layer.
 */
export function exportGraphOf(model: tf.LayersModel, metadata: ModelMetadata): ExportGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ExportError(
      `cannot export: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs (only 1 and 1)`,
    )
  }
  const inputShape = shapeOf(model.inputs[0].shape, 'input')
  const layers: ExportLayer[] = []
  let shape = inputShape
  // Numbered as InkLab numbers them: input layers do not count.
  model.layers
    .filter((layer) => layer.getClassName() !== 'InputLayer')
    .forEach((layer, index) => {
      const className = layer.getClassName()
      const config = layer.getConfig() as Config
      const read = new LayerReader(layer, index, config)
      const kind = LAYER_KINDS[className]
      if (!kind) {
        read.fail(
          `InkLab exports only ${Object.keys(LAYER_KINDS).join(', ')} layers (the ones its presets and editor build)`,
        )
      }
      const base = {
        name: layer.name,
        inputShape: shape,
        outputShape: shapeOf(layer.outputShape, 'output'),
      }
      const imageInput = (): void => {
        if (shape.length !== 3) read.fail(`its input is ${JSON.stringify(shape)}, not an image`)
      }
      if ('dataFormat' in config) read.expect('dataFormat', 'channelsLast')
      switch (kind) {
        case 'conv2d':
          imageInput()
          read.expect('dilationRate', [1, 1])
          layers.push({
            ...base,
            kind,
            filters: read.number('filters'),
            kernelSize: read.pair('kernelSize'),
            strides: read.pair('strides'),
            padding: read.padding(),
            activation: read.activation(),
            ...read.kernelAndBias(),
          })
          break
        case 'maxPool2d':
          imageInput()
          read.expect('padding', 'valid')
          layers.push({
            ...base,
            kind,
            poolSize: read.pair('poolSize'),
            strides: read.pair('strides'),
          })
          break
        case 'batchNorm':
          read.expect('axis', -1)
          read.expect('center', true)
          read.expect('scale', true)
          read.weightRoles(['gamma', 'beta', 'moving_mean', 'moving_variance'])
          layers.push({
            ...base,
            kind,
            epsilon: read.number('epsilon'),
            momentum: read.number('momentum'),
            gamma: read.weight('gamma'),
            beta: read.weight('beta'),
            movingMean: read.weight('moving_mean'),
            movingVariance: read.weight('moving_variance'),
          })
          break
        case 'dropout':
          layers.push({ ...base, kind, rate: read.number('rate') })
          break
        case 'flatten':
        case 'globalAveragePool':
          imageInput()
          layers.push({ ...base, kind })
          break
        case 'dense':
          if (shape.length !== 1) read.fail(`its input is ${JSON.stringify(shape)}, not a vector`)
          layers.push({
            ...base,
            kind,
            units: read.number('units'),
            activation: read.activation(),
            ...read.kernelAndBias(),
          })
          break
      }
      shape = base.outputShape
    })
  const last = layers[layers.length - 1]
  if (!last || last.kind !== 'dense' || last.activation !== 'softmax') {
    throw new ExportError('cannot export: the model does not end with a softmax dense layer')
  }
  if (last.units !== metadata.labels.length) {
    throw new ExportError(
      `cannot export: the model has ${last.units} outputs but its metadata lists ${metadata.labels.length} labels`,
    )
  }
  return { inputShape, layers, metadata }
}

/**
 * What every export carries besides the network, so a file alone says how to use it: the labels
 * in output order, the input convention and InkLab's preprocessing and provenance.
 */
export function exportMetadata(graph: ExportGraph): Record<string, unknown> {
  const { metadata } = graph
  return {
    format: 'inklab-export',
    formatVersion: 1,
    name: metadata.name,
    labels: metadata.labels,
    input: { ...EXPORT_INPUT, shape: graph.inputShape },
    preprocessing: metadata.preprocessing,
    dataset: metadata.dataset,
    preset: metadata.preset,
    metrics: metadata.metrics,
    createdAt: metadata.createdAt,
    inklabVersion: metadata.inklabVersion,
  }
}
