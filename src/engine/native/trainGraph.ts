import type * as tf from '@tensorflow/tfjs'

import { GraphBuilder, outputOf, type Output, type TfPadding } from './graphBuilder'
import {
  LayerError,
  readEnsemble,
  readLayers,
  type LayerActivation,
  type ModelLayer,
} from '../model/layers'
import { attr } from './tfProto'

/** Adam's constants, as tfjs' AdamOptimizer and InkLab's eager step use them. */
export interface AdamConstants {
  beta1: number
  beta2: number
  epsilon: number
}

/**
 * A training step as one TensorFlow graph: a pure function from (batch, step scalars, weights,
 * Adam moments, batch-norm moving statistics) to (their new values, loss and correct count). The
 * fetch and feed names are listed in the order the runner passes tensors.
 */
export interface TrainGraph {
  /** The encoded GraphDef. */
  graphDef: Uint8Array
  /** Feed names, in order: x, y, learning rate, 1/(1-beta1^t), 1/(1-beta2^t), [seed], weights, m, v, moving stats. */
  feeds: string[]
  /** Fetch names, in order: new weights, new m, new v, new moving stats, then [loss, correct] packed. */
  fetches: string[]
  /** The model's trainable variables, in feed order (also the order of m and v). */
  trainable: tf.Variable[]
  /** Batch-norm moving means and variances, in feed order. */
  movingStats: tf.Variable[]
  /** Whether the graph takes a dropout seed (an int32 pair) after the step scalars. */
  takesSeed: boolean
}

/** The model in inference mode as one graph: (x, weights, moving stats) -> class probabilities. */
export interface InferenceGraph {
  graphDef: Uint8Array
  /** Feed names, in order: x, weights, moving stats. */
  feeds: string[]
  /** The one fetch: softmax probabilities. */
  fetch: string
  /** Variables fed after x, in order (trainable weights, then moving statistics). */
  variables: tf.Variable[]
}

/** Thrown when the model holds a layer the graph step cannot express; the caller trains eagerly. */
export class UnsupportedLayerError extends Error {
  override readonly name = 'UnsupportedLayerError'
}

type Activation = 'relu' | 'linear' | 'elu' | 'tanh'

/** Adds one layer's backward ops: from dL/d(output) to dL/d(input) (null when not needed). */
type Backward = (dy: Output, needInputGrad: boolean) => Output | null

/** Names of the graph's fixed feeds. */
export const FEED = {
  x: 'x',
  y: 'y',
  learningRate: 'learning_rate',
  firstMomentScale: 'first_moment_scale',
  secondMomentScale: 'second_moment_scale',
  seed: 'dropout_seed',
} as const
const STATS_FETCH = 'stats'
const PROBABILITIES_FETCH = 'probabilities'

/** A hidden layer's activation; softmax belongs to the output layer only. */
function hiddenActivation(layer: ModelLayer & { activation: LayerActivation }): Activation {
  if (layer.activation === 'softmax') {
    throw new UnsupportedLayerError(`layer "${layer.name}": softmax is only for the output layer`)
  }
  return layer.activation
}

function tfPadding(padding: 'valid' | 'same'): TfPadding {
  return padding === 'same' ? 'SAME' : 'VALID'
}

function activate(g: GraphBuilder, activation: Activation, z: Output): Output {
  if (activation === 'relu') return g.op('Relu', [z])
  if (activation === 'elu') return g.op('Elu', [z])
  if (activation === 'tanh') return g.op('Tanh', [z])
  return z
}

/** dL/dz from dL/dy for y = activation(z), written with TensorFlow's gradient kernels. */
function activationGrad(g: GraphBuilder, activation: Activation, y: Output, dy: Output): Output {
  if (activation === 'relu') return g.op('ReluGrad', [dy, y])
  if (activation === 'elu') return g.op('EluGrad', [dy, y])
  if (activation === 'tanh') return g.op('TanhGrad', [y, dy])
  return dy
}

/** A fed weight: its placeholder and its index in `Forward.weights` (and in `gradients`). */
interface Fed {
  feed: Output
  index: number
}

type LayerOfKind<K extends ModelLayer['kind']> = Extract<ModelLayer, { kind: K }>

/** One sequential network as `readLayers` reads it. */
type Network = ReturnType<typeof readLayers>

/**
 * The networks of `model`: its one network, or each network of an ensemble (see readEnsemble).
 * A layer the graphs do not express is an UnsupportedLayerError.
 */
function readNetworks(model: tf.LayersModel, ensembles: boolean): Network[] {
  try {
    if (!ensembles) return [readLayers(model)]
    const { inputShape, members } = readEnsemble(model)
    return members.map((layers) => ({ inputShape, layers }))
  } catch (error) {
    if (error instanceof LayerError) throw new UnsupportedLayerError(error.message)
    throw error
  }
}

/** The forward pass of a network as graph ops, with what the backward pass and Adam need. */
class Forward {
  readonly g = new GraphBuilder()
  readonly x: Output
  /** Input of the output Dense layer (the features the logits are computed from). */
  readonly features: Output
  readonly logits: Output
  readonly outKernel: Fed
  readonly outBias: Fed
  /** Trainable variables in feed order, with their placeholders; `gradients` is filled by backward. */
  readonly weights: tf.Variable[] = []
  readonly weightFeeds: Output[] = []
  readonly gradients: Output[] = []
  readonly movingStats: tf.Variable[] = []
  readonly movingFeeds: Output[] = []
  /** New moving statistics (training only), in `movingStats` order. */
  readonly movingUpdates: Output[] = []
  /** Backward ops per hidden layer, in forward order (training only). */
  readonly backwards: Backward[] = []
  /** The dropout seed placeholder, when training a model with dropout. */
  readonly seed: Output | null = null

  /**
   * Builds the forward pass of a network (read by `readNetworks`, so exactly the layers InkLab builds).
   * In training mode, batch norm normalises with the batch statistics and dropout masks come from
   * the fed seed; in inference mode, batch norm uses the moving statistics and dropout is the
   * identity. `beforeWeights` adds the feeds that come between x and the weights.
   */
  constructor(
    read: Network,
    readonly training: boolean,
    beforeWeights: (g: GraphBuilder) => void,
  ) {
    const g = this.g
    const hidden = read.layers.slice(0, -1)
    const output = read.layers[read.layers.length - 1] as LayerOfKind<'dense'>
    this.x = g.placeholder(FEED.x, 'float32', [-1, ...read.inputShape])
    beforeWeights(g)
    if (training && hidden.some((l) => l.kind === 'dropout' && l.rate > 0)) {
      this.seed = g.node(
        'Placeholder',
        [],
        { dtype: attr.type('int32'), shape: attr.shape([2]) },
        FEED.seed,
      )
    }

    let h = this.x
    let dropoutIndex = 0
    for (const layer of hidden) {
      const input = h
      switch (layer.kind) {
        case 'conv2d':
          h = this.conv2d(layer, input)
          break
        case 'maxPool2d':
          h = this.maxPool(layer, input)
          break
        case 'batchNorm':
          h = this.batchNorm(layer, input)
          break
        case 'dropout':
          h = this.dropout(layer, input, dropoutIndex++)
          break
        case 'flatten': {
          const size = layer.inputShape.reduce((a, b) => a * b, 1)
          const out = g.reshape(input, g.constInt([-1, size]))
          this.backwards.push((dy) => g.reshape(dy, g.shape(input)))
          h = out
          break
        }
        case 'globalAveragePool':
          h = this.globalAveragePool(layer, input)
          break
        case 'dense':
          h = this.dense(layer, input)
          break
      }
    }
    this.features = h
    this.outKernel = this.feedWeight(output.kernel, 'kernel')
    this.outBias = this.feedWeight(output.bias, 'bias')
    const logits = g.op('MatMul', [h, this.outKernel.feed])
    this.logits = g.op('BiasAdd', [logits, this.outBias.feed])
  }

  private feedWeight(variable: tf.Variable, label: string): Fed {
    const feed = this.g.placeholder(`w${this.weights.length}_${label}`, 'float32', variable.shape)
    this.weights.push(variable)
    this.weightFeeds.push(feed)
    this.gradients.push('')
    return { feed, index: this.weights.length - 1 }
  }

  /**
   * `activation(z + bias)`, and for the backward pass `zGrad`: dL/dz from dL/d(output), recording
   * the bias gradient on the way. A convolution's bias gradient is taken on dz seen as
   * [N*H*W, C]: on dz itself, oneDNN's graph pass fuses it into the filter gradient
   * (_MklNativeConv2DBackpropFilterWithBias), which measured 2-3x slower than the two apart.
   */
  private biasAndActivation(
    activation: Activation,
    z: Output,
    bias: Fed,
    image: boolean,
  ): { out: Output; zGrad: (dy: Output) => Output } {
    const g = this.g
    const out = activate(g, activation, g.op('BiasAdd', [z, bias.feed]))
    const zGrad = (dy: Output): Output => {
      const dz = activationGrad(g, activation, out, dy)
      const channels = this.weights[bias.index].shape[0]
      const rows = image ? g.reshape(dz, g.constInt([-1, channels])) : dz
      this.gradients[bias.index] = g.op('BiasAddGrad', [rows])
      return dz
    }
    return { out, zGrad }
  }

  private conv2d(layer: LayerOfKind<'conv2d'>, input: Output): Output {
    const g = this.g
    const kernel = this.feedWeight(layer.kernel, 'kernel')
    const bias = this.feedWeight(layer.bias, 'bias')
    const [sh, sw] = layer.strides
    const windowAttrs = {
      strides: attr.ints([1, sh, sw, 1]),
      padding: attr.string(tfPadding(layer.padding)),
    }
    const { out, zGrad } = this.biasAndActivation(
      hiddenActivation(layer),
      g.op('Conv2D', [input, kernel.feed], windowAttrs),
      bias,
      true,
    )
    this.backwards.push((dy, needInputGrad) => {
      const dz = zGrad(dy)
      this.gradients[kernel.index] = g.op(
        'Conv2DBackpropFilter',
        [input, g.constInt(layer.kernel.shape), dz],
        windowAttrs,
      )
      return needInputGrad
        ? g.op('Conv2DBackpropInput', [g.shape(input), kernel.feed, dz], windowAttrs)
        : null
    })
    return out
  }

  private maxPool(layer: LayerOfKind<'maxPool2d'>, input: Output): Output {
    const g = this.g
    const [ph, pw] = layer.poolSize
    const [sh, sw] = layer.strides
    const windowAttrs = {
      ksize: attr.ints([1, ph, pw, 1]),
      strides: attr.ints([1, sh, sw, 1]),
      padding: attr.string('VALID'),
    }
    const out = g.op('MaxPool', [input], windowAttrs)
    this.backwards.push((dy) => g.op('MaxPoolGrad', [input, out, dy], windowAttrs))
    return out
  }

  private dense(layer: LayerOfKind<'dense'>, input: Output): Output {
    const g = this.g
    const kernel = this.feedWeight(layer.kernel, 'kernel')
    const bias = this.feedWeight(layer.bias, 'bias')
    const { out, zGrad } = this.biasAndActivation(
      hiddenActivation(layer),
      g.op('MatMul', [input, kernel.feed]),
      bias,
      false,
    )
    this.backwards.push((dy, needInputGrad) => {
      const dz = zGrad(dy)
      this.gradients[kernel.index] = g.op('MatMul', [input, dz], { transpose_a: attr.bool(true) })
      return needInputGrad
        ? g.op('MatMul', [dz, kernel.feed], { transpose_b: attr.bool(true) })
        : null
    })
    return out
  }

  private dropout(layer: LayerOfKind<'dropout'>, input: Output, index: number): Output {
    const g = this.g
    const rate = layer.rate
    if (!this.training || rate <= 0 || this.seed === null) {
      this.backwards.push((dy) => dy)
      return input
    }
    // A distinct stateless stream per dropout layer: the fed seed plus the layer's index. Kept
    // where u >= rate, as tfjs' dropout (floor(u + keep)), and scaled by 1/(1 - rate).
    const layerSeed = g.node('AddV2', [this.seed, g.constInt([0, index])], {
      T: attr.type('int32'),
    })
    const uniform = g.node('StatelessRandomUniform', [g.shape(input), layerSeed], {
      dtype: attr.type('float32'),
      T: attr.type('int32'),
      Tseed: attr.type('int32'),
    })
    const keep = g.cast(
      g.node('GreaterEqual', [uniform, g.constFloat(rate)], { T: attr.type('float32') }),
      'bool',
      'float32',
    )
    const mask = g.mul(keep, g.constFloat(1 / (1 - rate)))
    this.backwards.push((dy) => g.mul(dy, mask))
    return g.mul(input, mask)
  }

  private globalAveragePool(layer: LayerOfKind<'globalAveragePool'>, input: Output): Output {
    const g = this.g
    const [height, width, channels] = layer.inputShape
    this.backwards.push((dy) => {
      const scaled = g.mul(dy, g.constFloat(1 / (height * width)))
      const column = g.reshape(scaled, g.constInt([-1, 1, 1, channels]))
      return g.op('BroadcastTo', [column, g.shape(input)], { Tidx: attr.type('int32') })
    })
    return g.reduce('Mean', input, [1, 2])
  }

  /**
   * Batch norm with TensorFlow's fused kernels (FusedBatchNormV3 and, in training, its gradient),
   * on an image input as is or on a vector seen as [N, 1, 1, C]. In training the moving statistics
   * move towards the batch mean and biased variance with the layer's momentum, as
   * `train/forward.ts` does.
   */
  private batchNorm(layer: LayerOfKind<'batchNorm'>, input: Output): Output {
    const g = this.g
    const image = layer.inputShape.length === 3
    const channels = layer.inputShape[layer.inputShape.length - 1]
    const gamma = this.feedWeight(layer.gamma, 'gamma')
    const beta = this.feedWeight(layer.beta, 'beta')
    const meanFeed = g.placeholder(`moving${this.movingStats.length}`, 'float32', [channels])
    const varianceFeed = g.placeholder(`moving${this.movingStats.length + 1}`, 'float32', [
      channels,
    ])
    this.movingStats.push(layer.movingMean, layer.movingVariance)
    this.movingFeeds.push(meanFeed, varianceFeed)

    const x4 = image ? input : g.reshape(input, g.constInt([-1, 1, 1, channels]))
    const bnAttrs = {
      T: attr.type('float32'),
      U: attr.type('float32'),
      epsilon: attr.float(layer.epsilon),
      is_training: attr.bool(this.training),
      data_format: attr.string('NHWC'),
    }
    const bn = g.node(
      'FusedBatchNormV3',
      [x4, gamma.feed, beta.feed, meanFeed, varianceFeed],
      bnAttrs,
    )
    if (this.training) {
      // Outputs 3 and 4 (reserve spaces 1 and 2) are the batch mean and biased variance on the CPU.
      const keep = g.constFloat(layer.momentum)
      const blend = g.constFloat(1 - layer.momentum)
      this.movingUpdates.push(
        g.add(g.mul(meanFeed, keep), g.mul(outputOf(bn, 3), blend)),
        g.add(g.mul(varianceFeed, keep), g.mul(outputOf(bn, 4), blend)),
      )
      this.backwards.push((dy) => {
        const dy4 = image ? dy : g.reshape(dy, g.constInt([-1, 1, 1, channels]))
        const grad = g.node(
          'FusedBatchNormGradV3',
          [dy4, x4, gamma.feed, outputOf(bn, 3), outputOf(bn, 4), outputOf(bn, 5)],
          bnAttrs,
        )
        this.gradients[gamma.index] = outputOf(grad, 1)
        this.gradients[beta.index] = outputOf(grad, 2)
        const dx4 = outputOf(grad, 0)
        return image ? dx4 : g.reshape(dx4, g.constInt([-1, channels]))
      })
    }
    const y4 = outputOf(bn, 0)
    return image ? y4 : g.reshape(y4, g.constInt([-1, channels]))
  }
}

/**
 * Builds the training graph of a sequential softmax classifier made of the layers InkLab's
 * architectures produce (Conv2D, MaxPooling2D, BatchNormalization, Dropout, Flatten,
 * GlobalAveragePooling2D, Dense with relu/linear/elu/tanh), ending in a Dense softmax layer. The
 * forward pass and the loss match `train/forward.ts` (batch norm on batch statistics with the
 * biased variance, dropout scaled by 1/(1-rate), mean sparse cross-entropy from logits); gradients are
 * written out per op (TensorFlow's own gradient kernels), and Adam is applied as tfjs does. Throws
 * `UnsupportedLayerError` for anything else.
 */
export function buildTrainGraph(model: tf.LayersModel, adam: AdamConstants): TrainGraph {
  const scalars: Output[] = []
  // Training updates one network: an ensemble is never trained as one.
  const [network] = readNetworks(model, false)
  const f = new Forward(network, true, (g) => {
    scalars.push(
      g.placeholder(FEED.y, 'int32', [-1]),
      g.placeholder(FEED.learningRate, 'float32', []),
      g.placeholder(FEED.firstMomentScale, 'float32', []),
      g.placeholder(FEED.secondMomentScale, 'float32', []),
    )
  })
  const g = f.g
  const [y, lr, c1, c2] = scalars

  // Loss: TensorFlow's fused, stable cross-entropy; its gradient comes out of the same kernel.
  const xent = g.node('SparseSoftmaxCrossEntropyWithLogits', [f.logits, y], {
    T: attr.type('float32'),
    Tlabels: attr.type('int32'),
  })
  const loss = g.reduce('Mean', outputOf(xent, 0), [0])
  const count = g.cast(
    g.node('Size', [y], { T: attr.type('int32'), out_type: attr.type('int32') }),
    'int32',
    'float32',
  )
  const dLogits = g.div(outputOf(xent, 1), count)
  const predicted = g.node('ArgMax', [f.logits, g.constInt(1)], {
    T: attr.type('float32'),
    Tidx: attr.type('int32'),
    output_type: attr.type('int32'),
  })
  const hits = g.cast(g.node('Equal', [predicted, y], { T: attr.type('int32') }), 'bool', 'float32')
  const correct = g.reduce('Sum', hits, [0])

  f.gradients[f.outBias.index] = g.op('BiasAddGrad', [dLogits])
  f.gradients[f.outKernel.index] = g.op('MatMul', [f.features, dLogits], {
    transpose_a: attr.bool(true),
  })
  let dy: Output | null = g.op('MatMul', [dLogits, f.outKernel.feed], {
    transpose_b: attr.bool(true),
  })
  for (let i = f.backwards.length - 1; i >= 0 && dy !== null; i--) {
    dy = f.backwards[i](dy, i > 0)
  }

  // Adam, exactly as tfjs applies it: m' = b1 m + (1-b1) g, v' = b2 v + (1-b2) g^2,
  // w' = w - lr (m' / (1-b1^t)) / (sqrt(v' / (1-b2^t)) + eps).
  const beta1 = g.constFloat(adam.beta1)
  const oneMinusBeta1 = g.constFloat(1 - adam.beta1)
  const beta2 = g.constFloat(adam.beta2)
  const oneMinusBeta2 = g.constFloat(1 - adam.beta2)
  const epsilon = g.constFloat(adam.epsilon)
  const mFeeds = f.weights.map((v, i) => g.placeholder(`m${i}`, 'float32', v.shape))
  const vFeeds = f.weights.map((v, i) => g.placeholder(`v${i}`, 'float32', v.shape))
  const newWeights: Output[] = []
  const newM: Output[] = []
  const newV: Output[] = []
  f.weights.forEach((_, i) => {
    const grad = f.gradients[i]
    if (!grad) throw new UnsupportedLayerError(`no gradient for weight ${i}`)
    const m = g.add(g.mul(mFeeds[i], beta1), g.mul(grad, oneMinusBeta1))
    const v = g.add(g.mul(vFeeds[i], beta2), g.mul(g.op('Square', [grad]), oneMinusBeta2))
    const step = g.div(g.mul(m, c1), g.add(g.op('Sqrt', [g.mul(v, c2)]), epsilon))
    newWeights.push(g.identity(g.sub(f.weightFeeds[i], g.mul(step, lr)), `new_w${i}`))
    newM.push(g.identity(m, `new_m${i}`))
    newV.push(g.identity(v, `new_v${i}`))
  })
  const newMoving = f.movingUpdates.map((update, i) => g.identity(update, `new_moving${i}`))
  g.node(
    'Pack',
    [loss, correct],
    { T: attr.type('float32'), N: attr.int(2), axis: attr.int(0) },
    STATS_FETCH,
  )

  return {
    graphDef: g.finish(),
    feeds: [
      f.x,
      ...scalars,
      ...(f.seed !== null ? [f.seed] : []),
      ...f.weightFeeds,
      ...mFeeds,
      ...vFeeds,
      ...f.movingFeeds,
    ],
    fetches: [...newWeights, ...newM, ...newV, ...newMoving, STATS_FETCH],
    trainable: f.weights,
    movingStats: f.movingStats,
    takesSeed: f.seed !== null,
  }
}

/**
 * Builds the inference graph of each network of a model the training graph supports (one, or
 * those of an ensemble, whose probabilities the caller averages): batch norm on the moving
 * statistics, no dropout, softmax probabilities out. Throws `UnsupportedLayerError` otherwise.
 */
export function buildInferenceGraphs(model: tf.LayersModel): InferenceGraph[] {
  return readNetworks(model, true).map((network) => {
    const f = new Forward(network, false, () => undefined)
    f.g.node('Softmax', [f.logits], { T: attr.type('float32') }, PROBABILITIES_FETCH)
    return {
      graphDef: f.g.finish(),
      feeds: [f.x, ...f.weightFeeds, ...f.movingFeeds],
      fetch: PROBABILITIES_FETCH,
      variables: [...f.weights, ...f.movingStats],
    }
  })
}
