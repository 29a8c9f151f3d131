import type * as tf from '@tensorflow/tfjs'

import { ensembleSize, memberChains } from './ensemble'

/** A model holds a layer, or a layer option, that InkLab does not read. */
export class LayerError extends Error {
  /**
   * @param problem what is wrong, e.g. `activation "sigmoid" is not supported (...)`
   * @param layer which layer, e.g. `layer 2 "dense_1" (Dense)`; absent for the model as a whole
   */
  constructor(
    readonly problem: string,
    readonly layer?: string,
  ) {
    super(layer ? `${layer}: ${problem}` : problem)
    this.name = 'LayerError'
  }
}

/** Activations InkLab's layers use (the schema's hidden-layer ones and the output's softmax). */
export type LayerActivation = 'linear' | 'relu' | 'elu' | 'tanh' | 'softmax'
const ACTIVATIONS: readonly LayerActivation[] = ['linear', 'relu', 'elu', 'tanh', 'softmax']

/** One layer's place in the network: shapes are per sample (no batch axis). */
interface LayerBase {
  /** The layer's name in InkLab's model. */
  name: string
  inputShape: number[]
  outputShape: number[]
}

/**
 * A layer of an InkLab model as data: its kind, options and weights, nothing tfjs-specific but the
 * weights' type `W` (live variables for training graphs, arrays for exporters).
 */
export type LayerOf<W> = LayerBase &
  (
    | {
        kind: 'conv2d'
        filters: number
        kernelSize: [number, number]
        strides: [number, number]
        padding: 'valid' | 'same'
        activation: LayerActivation
        kernel: W
        bias: W
      }
    | { kind: 'maxPool2d'; poolSize: [number, number]; strides: [number, number] }
    | {
        kind: 'batchNorm'
        epsilon: number
        momentum: number
        gamma: W
        beta: W
        movingMean: W
        movingVariance: W
      }
    | { kind: 'dropout'; rate: number }
    | { kind: 'flatten' }
    | { kind: 'globalAveragePool' }
    | {
        kind: 'dense'
        units: number
        activation: LayerActivation
        kernel: W
        bias: W
      }
  )

/** A layer with its weights as the model's own variables (they follow later training). */
export type ModelLayer = LayerOf<tf.Variable>
export type LayerKind = ModelLayer['kind']

/** The layer with each weight replaced by `convert(weight)`. */
export function mapWeights<A, B>(layer: LayerOf<A>, convert: (weight: A) => B): LayerOf<B> {
  switch (layer.kind) {
    case 'conv2d':
    case 'dense':
      return { ...layer, kernel: convert(layer.kernel), bias: convert(layer.bias) }
    case 'batchNorm':
      return {
        ...layer,
        gamma: convert(layer.gamma),
        beta: convert(layer.beta),
        movingMean: convert(layer.movingMean),
        movingVariance: convert(layer.movingVariance),
      }
    default:
      return layer
  }
}

/** The tfjs layer classes InkLab builds, and the kind each becomes. */
const LAYER_KINDS: Record<string, LayerKind> = {
  Conv2D: 'conv2d',
  MaxPooling2D: 'maxPool2d',
  BatchNormalization: 'batchNorm',
  Dropout: 'dropout',
  Flatten: 'flatten',
  GlobalAveragePooling2D: 'globalAveragePool',
  Dense: 'dense',
}

type Config = Record<string, unknown>

/** Reads one layer's options and weights, refusing what InkLab never builds. */
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
    throw new LayerError(problem, this.label)
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

  activation(): LayerActivation {
    const value = this.config.activation
    if (!ACTIVATIONS.includes(value as LayerActivation)) {
      this.fail(`activation "${String(value)}" is not supported (only ${ACTIVATIONS.join(', ')})`)
    }
    return value as LayerActivation
  }

  /** The variable of the weight whose name ends in `/role` (kernel, bias, gamma, ...). */
  weight(role: string): tf.Variable {
    const variable = this.layer.weights.find((w) => w.originalName.split('/').pop() === role)
    if (!variable) this.fail(`it has no ${role} weights`)
    // LayerVariable.read() returns the backing tf.Variable typed as a plain Tensor.
    return variable.read() as tf.Variable
  }

  /** The kernel and bias of a Conv2D or Dense layer (InkLab always gives them a bias). */
  kernelAndBias(): { kernel: tf.Variable; bias: tf.Variable } {
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
    throw new LayerError(`the ${what} shape ${JSON.stringify(single)} is not fixed`)
  }
  return rest
}

/**
 * Reads a model as InkLab's layers: a sequential stack of the layers its presets and custom
 * editor build (conv2d, maxPool2d, batchNorm, dropout, flatten, globalAveragePool, dense) ending in a
 * softmax dense layer, with its weights as the model's variables. The exporters and the native
 * training graph both start here. Anything else, or an option InkLab never sets (dilation, no bias,
 * channels-first, a noise shape, ...), is refused with a LayerError naming the layer.
 */
export function readLayers(model: tf.LayersModel): { inputShape: number[]; layers: ModelLayer[] } {
  const inputShape = singleInputShape(model)
  const members = ensembleSize(model)
  if (members > 1) {
    throw new LayerError(
      `the model averages ${members} networks (an ensemble), not one network (see readEnsemble)`,
    )
  }
  // Numbered as InkLab numbers them: input layers do not count.
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer')
  return { inputShape, layers: readChain(layers, inputShape) }
}

/**
 * Reads an ensemble `combineModels` built as its networks, each a sequential stack `readLayers`
 * would read (layer names keep their `m1_`, `m2_`... prefixes), in the order the output averages
 * them. A model of one network reads as an ensemble of one.
 */
export function readEnsemble(model: tf.LayersModel): {
  inputShape: number[]
  members: ModelLayer[][]
} {
  const inputShape = singleInputShape(model)
  if (ensembleSize(model) === 1) return { inputShape, members: [readLayers(model).layers] }
  return {
    inputShape,
    members: memberChains(model).map((chain) => readChain(chain, inputShape)),
  }
}

/** The shape of the one input of `model`; a model with more inputs or outputs is refused. */
function singleInputShape(model: tf.LayersModel): number[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new LayerError(
      `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs (only 1 and 1)`,
    )
  }
  return shapeOf(model.inputs[0].shape, 'input')
}

/** Reads a sequential stack of layers fed by an input of `inputShape`. */
function readChain(chain: tf.layers.Layer[], inputShape: number[]): ModelLayer[] {
  const layers: ModelLayer[] = []
  let shape = inputShape
  chain.forEach((layer, index) => {
    const className = layer.getClassName()
    const config = layer.getConfig() as Config
    const read = new LayerReader(layer, index, config)
    const kind = LAYER_KINDS[className]
    if (!kind) {
      read.fail(
        `InkLab reads only ${Object.keys(LAYER_KINDS).join(', ')} layers (the ones its presets and editor build)`,
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
        if (config.noiseShape != null) read.fail('a noise shape is not supported')
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
    throw new LayerError('the model does not end with a softmax dense layer')
  }
  return layers
}
