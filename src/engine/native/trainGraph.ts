import type * as tf from '@tensorflow/tfjs'

import { GraphBuilder, outputOf, type Output, type TfPadding } from './graphBuilder'
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

/** Thrown when the model holds a layer the graph step cannot express; the caller trains eagerly. */
export class UnsupportedLayerError extends Error {
  override readonly name = 'UnsupportedLayerError'
}

type Activation = 'relu' | 'linear' | 'elu' | 'tanh'

/** What the backward pass needs from one layer of the forward pass. */
type Backward = (dy: Output, needInputGrad: boolean) => Output | null

interface LayerConfig {
  activation?: string
  useBias?: boolean
  strides?: number[]
  padding?: string
  poolSize?: number[]
  rate?: number
  epsilon?: number
  momentum?: number
  axis?: number
  center?: boolean
  scale?: boolean
  dataFormat?: string
  dilationRate?: number[]
  noiseShape?: unknown
}

/** Names of the graph's fixed feeds and of the packed stats fetch. */
export const FEED = {
  x: 'x',
  y: 'y',
  learningRate: 'learning_rate',
  firstMomentScale: 'first_moment_scale',
  secondMomentScale: 'second_moment_scale',
  seed: 'dropout_seed',
} as const
const STATS_FETCH = 'stats'

function variableOf(layer: tf.layers.Layer, suffix: string): tf.Variable {
  const weight = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`))
  if (!weight) throw new UnsupportedLayerError(`layer ${layer.name} has no ${suffix} weight`)
  // LayerVariable.read() returns the backing tf.Variable typed as a plain Tensor.
  return weight.read() as tf.Variable
}

function activationOf(layer: tf.layers.Layer, config: LayerConfig): Activation {
  const activation = config.activation ?? 'linear'
  if (
    activation === 'relu' ||
    activation === 'linear' ||
    activation === 'elu' ||
    activation === 'tanh'
  )
    return activation
  throw new UnsupportedLayerError(`layer ${layer.name}: activation ${activation}`)
}

function paddingOf(layer: tf.layers.Layer, config: LayerConfig): TfPadding {
  if (config.padding === 'same') return 'SAME'
  if (config.padding === 'valid') return 'VALID'
  throw new UnsupportedLayerError(`layer ${layer.name}: padding ${String(config.padding)}`)
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
  const g = new GraphBuilder()
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer')
  const output = layers[layers.length - 1]
  const outputConfig = output?.getConfig() as LayerConfig | undefined
  if (output?.getClassName() !== 'Dense' || outputConfig?.activation !== 'softmax') {
    throw new UnsupportedLayerError('the model must end in a Dense softmax layer')
  }
  const inputShape = model.inputs[0].shape
  const x = g.placeholder(
    FEED.x,
    'float32',
    inputShape.map((d) => d ?? -1),
  )
  const y = g.placeholder(FEED.y, 'int32', [-1])
  const lr = g.placeholder(FEED.learningRate, 'float32', [])
  const c1 = g.placeholder(FEED.firstMomentScale, 'float32', [])
  const c2 = g.placeholder(FEED.secondMomentScale, 'float32', [])
  const takesSeed = layers.some(
    (l) => l.getClassName() === 'Dropout' && ((l.getConfig() as LayerConfig).rate ?? 0) > 0,
  )
  const seed = takesSeed
    ? g.node('Placeholder', [], { dtype: attr.type('int32'), shape: attr.shape([2]) }, FEED.seed)
    : ''

  // Weights are fed after the fixed inputs; their placeholders are created as layers are met.
  const trainable: tf.Variable[] = []
  const trainableFeeds: Output[] = []
  const gradients: Output[] = []
  const movingStats: tf.Variable[] = []
  const movingFeeds: Output[] = []
  const movingUpdates: Output[] = []
  const feedWeight = (variable: tf.Variable, label: string): { feed: Output; index: number } => {
    const feed = g.placeholder(`w${trainable.length}_${label}`, 'float32', variable.shape)
    trainable.push(variable)
    trainableFeeds.push(feed)
    gradients.push('')
    return { feed, index: trainable.length - 1 }
  }

  const backwards: Backward[] = []
  let h = x
  let dropoutIndex = 0
  let inShape: (number | null)[] = [...inputShape]
  for (const layer of layers.slice(0, -1)) {
    const config = layer.getConfig() as LayerConfig
    const kind = layer.getClassName()
    const input = h
    const shape = inShape
    inShape = layer.outputShape as (number | null)[]
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
      throw new UnsupportedLayerError(`layer ${layer.name}: data format ${config.dataFormat}`)
    }
    switch (kind) {
      case 'Conv2D': {
        if (config.dilationRate?.some((d) => d !== 1)) {
          throw new UnsupportedLayerError(`layer ${layer.name}: dilated convolution`)
        }
        const kernelVar = variableOf(layer, 'kernel')
        const kernel = feedWeight(kernelVar, 'kernel')
        const bias = config.useBias === false ? null : feedWeight(variableOf(layer, 'bias'), 'bias')
        const [sh, sw] = config.strides ?? [1, 1]
        const windowAttrs = {
          strides: attr.ints([1, sh, sw, 1]),
          padding: attr.string(paddingOf(layer, config)),
        }
        let z = g.op('Conv2D', [input, kernel.feed], windowAttrs)
        if (bias) z = g.op('BiasAdd', [z, bias.feed])
        const activation = activationOf(layer, config)
        const out = activate(g, activation, z)
        backwards.push((dy, needInputGrad) => {
          const dz = activationGrad(g, activation, out, dy)
          if (bias) gradients[bias.index] = g.op('BiasAddGrad', [dz])
          gradients[kernel.index] = g.op(
            'Conv2DBackpropFilter',
            [input, g.constInt(kernelVar.shape), dz],
            windowAttrs,
          )
          return needInputGrad
            ? g.op('Conv2DBackpropInput', [g.shape(input), kernel.feed, dz], windowAttrs)
            : null
        })
        h = out
        break
      }
      case 'MaxPooling2D': {
        const [ph, pw] = config.poolSize ?? [2, 2]
        const [sh, sw] = config.strides ?? [ph, pw]
        const windowAttrs = {
          ksize: attr.ints([1, ph, pw, 1]),
          strides: attr.ints([1, sh, sw, 1]),
          padding: attr.string(paddingOf(layer, config)),
        }
        const out = g.op('MaxPool', [input], windowAttrs)
        backwards.push((dy) => g.op('MaxPoolGrad', [input, out, dy], windowAttrs))
        h = out
        break
      }
      case 'BatchNormalization': {
        if (config.center === false || config.scale === false || (config.axis ?? -1) !== -1) {
          throw new UnsupportedLayerError(
            `layer ${layer.name}: batch norm without scale/centre or on another axis`,
          )
        }
        h = batchNorm(g, layer, config, input, shape, {
          feedWeight,
          gradients,
          movingStats,
          movingFeeds,
          movingUpdates,
          backwards,
        })
        break
      }
      case 'Dropout': {
        const rate = config.rate ?? 0
        if (config.noiseShape != null) {
          throw new UnsupportedLayerError(`layer ${layer.name}: dropout with a noise shape`)
        }
        if (rate <= 0) {
          backwards.push((dy) => dy)
          break
        }
        // A distinct stateless stream per dropout layer: the fed seed plus the layer's index.
        const layerSeed = g.node('AddV2', [seed, g.constInt([0, dropoutIndex++])], {
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
        backwards.push((dy) => g.mul(dy, mask))
        h = g.mul(input, mask)
        break
      }
      case 'Flatten': {
        const out = g.reshape(input, g.constInt([-1, flatSize(layer, shape)]))
        backwards.push((dy) => g.reshape(dy, g.shape(input)))
        h = out
        break
      }
      case 'GlobalAveragePooling2D': {
        const [, height, width, channels] = shape
        if (height == null || width == null || channels == null) {
          throw new UnsupportedLayerError(`layer ${layer.name}: unknown input size`)
        }
        const out = g.reduce('Mean', input, [1, 2])
        backwards.push((dy) => {
          const scaled = g.mul(dy, g.constFloat(1 / (height * width)))
          const column = g.reshape(scaled, g.constInt([-1, 1, 1, channels]))
          return g.op('BroadcastTo', [column, g.shape(input)], { Tidx: attr.type('int32') })
        })
        h = out
        break
      }
      case 'Dense': {
        const kernel = feedWeight(variableOf(layer, 'kernel'), 'kernel')
        const bias = config.useBias === false ? null : feedWeight(variableOf(layer, 'bias'), 'bias')
        if (shape.length !== 2) {
          throw new UnsupportedLayerError(`layer ${layer.name}: dense on a non-flat input`)
        }
        let z = g.op('MatMul', [input, kernel.feed])
        if (bias) z = g.op('BiasAdd', [z, bias.feed])
        const activation = activationOf(layer, config)
        const out = activate(g, activation, z)
        backwards.push((dy, needInputGrad) => {
          const dz = activationGrad(g, activation, out, dy)
          if (bias) gradients[bias.index] = g.op('BiasAddGrad', [dz])
          gradients[kernel.index] = g.op('MatMul', [input, dz], { transpose_a: attr.bool(true) })
          return needInputGrad
            ? g.op('MatMul', [dz, kernel.feed], { transpose_b: attr.bool(true) })
            : null
        })
        h = out
        break
      }
      default:
        throw new UnsupportedLayerError(
          `layer ${layer.name}: ${kind} is not supported by the graph step`,
        )
    }
  }

  // Output layer: logits, stable cross-entropy and its gradient (TensorFlow's fused kernel).
  const outKernel = feedWeight(variableOf(output, 'kernel'), 'kernel')
  const outBias =
    outputConfig.useBias === false ? null : feedWeight(variableOf(output, 'bias'), 'bias')
  let logits = g.op('MatMul', [h, outKernel.feed])
  if (outBias) logits = g.op('BiasAdd', [logits, outBias.feed])
  const xent = g.node('SparseSoftmaxCrossEntropyWithLogits', [logits, y], {
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
  const predicted = g.node('ArgMax', [logits, g.constInt(1)], {
    T: attr.type('float32'),
    Tidx: attr.type('int32'),
    output_type: attr.type('int32'),
  })
  const hits = g.cast(g.node('Equal', [predicted, y], { T: attr.type('int32') }), 'bool', 'float32')
  const correct = g.reduce('Sum', hits, [0])
  if (outBias) gradients[outBias.index] = g.op('BiasAddGrad', [dLogits])
  gradients[outKernel.index] = g.op('MatMul', [h, dLogits], { transpose_a: attr.bool(true) })
  let dy: Output | null = g.op('MatMul', [dLogits, outKernel.feed], {
    transpose_b: attr.bool(true),
  })

  for (let i = backwards.length - 1; i >= 0 && dy !== null; i--) {
    dy = backwards[i](dy, i > 0)
  }

  // Adam, exactly as tfjs applies it: m' = b1 m + (1-b1) g, v' = b2 v + (1-b2) g^2,
  // w' = w - lr (m' / (1-b1^t)) / (sqrt(v' / (1-b2^t)) + eps).
  const beta1 = g.constFloat(adam.beta1)
  const oneMinusBeta1 = g.constFloat(1 - adam.beta1)
  const beta2 = g.constFloat(adam.beta2)
  const oneMinusBeta2 = g.constFloat(1 - adam.beta2)
  const epsilon = g.constFloat(adam.epsilon)
  const newWeights: Output[] = []
  const newM: Output[] = []
  const newV: Output[] = []
  const mFeeds = trainable.map((v, i) => g.placeholder(`m${i}`, 'float32', v.shape))
  const vFeeds = trainable.map((v, i) => g.placeholder(`v${i}`, 'float32', v.shape))
  trainable.forEach((_, i) => {
    const grad = gradients[i]
    if (!grad) throw new UnsupportedLayerError(`no gradient for weight ${i}`)
    const m = g.add(g.mul(mFeeds[i], beta1), g.mul(grad, oneMinusBeta1))
    const v = g.add(g.mul(vFeeds[i], beta2), g.mul(g.op('Square', [grad]), oneMinusBeta2))
    const step = g.div(g.mul(m, c1), g.add(g.op('Sqrt', [g.mul(v, c2)]), epsilon))
    newWeights.push(g.identity(g.sub(trainableFeeds[i], g.mul(step, lr)), `new_w${i}`))
    newM.push(g.identity(m, `new_m${i}`))
    newV.push(g.identity(v, `new_v${i}`))
  })
  const newMoving = movingUpdates.map((update, i) => g.identity(update, `new_moving${i}`))
  g.node(
    'Pack',
    [loss, correct],
    { T: attr.type('float32'), N: attr.int(2), axis: attr.int(0) },
    STATS_FETCH,
  )

  return {
    graphDef: g.finish(),
    feeds: [
      x,
      y,
      lr,
      c1,
      c2,
      ...(takesSeed ? [seed] : []),
      ...trainableFeeds,
      ...mFeeds,
      ...vFeeds,
      ...movingFeeds,
    ],
    fetches: [...newWeights, ...newM, ...newV, ...newMoving, STATS_FETCH],
    trainable,
    movingStats,
    takesSeed,
  }
}

function flatSize(layer: tf.layers.Layer, shape: (number | null)[]): number {
  let size = 1
  for (const d of shape.slice(1)) {
    if (d == null) throw new UnsupportedLayerError(`layer ${layer.name}: unknown input size`)
    size *= d
  }
  return size
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

interface BatchNormContext {
  feedWeight: (variable: tf.Variable, label: string) => { feed: Output; index: number }
  gradients: Output[]
  movingStats: tf.Variable[]
  movingFeeds: Output[]
  movingUpdates: Output[]
  backwards: Backward[]
}

/**
 * Batch norm in training mode with TensorFlow's fused kernels (FusedBatchNormV3 and its gradient),
 * on a 4-D input as is or on a 2-D one seen as [N, 1, 1, C]. The moving statistics move towards the
 * batch mean and biased variance with the layer's momentum, as `train/forward.ts` does.
 */
function batchNorm(
  g: GraphBuilder,
  layer: tf.layers.Layer,
  config: LayerConfig,
  input: Output,
  shape: (number | null)[],
  ctx: BatchNormContext,
): Output {
  const rank = shape.length
  if (rank !== 4 && rank !== 2) throw new UnsupportedLayerError(`layer ${layer.name}: rank ${rank}`)
  const channels = shape[rank - 1]
  if (channels == null) throw new UnsupportedLayerError(`layer ${layer.name}: unknown channels`)
  const gamma = ctx.feedWeight(variableOf(layer, 'gamma'), 'gamma')
  const beta = ctx.feedWeight(variableOf(layer, 'beta'), 'beta')
  const movingMean = variableOf(layer, 'moving_mean')
  const movingVariance = variableOf(layer, 'moving_variance')
  const meanFeed = g.placeholder(`moving${ctx.movingStats.length}`, 'float32', [channels])
  const varianceFeed = g.placeholder(`moving${ctx.movingStats.length + 1}`, 'float32', [channels])
  ctx.movingStats.push(movingMean, movingVariance)
  ctx.movingFeeds.push(meanFeed, varianceFeed)

  const epsilon = config.epsilon ?? 1e-3
  const momentum = config.momentum ?? 0.99
  const x4 = rank === 4 ? input : g.reshape(input, g.constInt([-1, 1, 1, channels]))
  const bnAttrs = {
    T: attr.type('float32'),
    U: attr.type('float32'),
    epsilon: attr.float(epsilon),
    is_training: attr.bool(true),
    data_format: attr.string('NHWC'),
  }
  const bn = g.node(
    'FusedBatchNormV3',
    [x4, gamma.feed, beta.feed, meanFeed, varianceFeed],
    bnAttrs,
  )
  // Output 3 and 4 (reserve spaces 1 and 2) are the batch mean and biased variance on the CPU.
  const batchMean = outputOf(bn, 3)
  const batchVariance = outputOf(bn, 4)
  const keep = g.constFloat(momentum)
  const blend = g.constFloat(1 - momentum)
  ctx.movingUpdates.push(
    g.add(g.mul(meanFeed, keep), g.mul(batchMean, blend)),
    g.add(g.mul(varianceFeed, keep), g.mul(batchVariance, blend)),
  )
  const y4 = outputOf(bn, 0)
  ctx.backwards.push((dy) => {
    const dy4 = rank === 4 ? dy : g.reshape(dy, g.constInt([-1, 1, 1, channels]))
    const grad = g.node(
      'FusedBatchNormGradV3',
      [dy4, x4, gamma.feed, outputOf(bn, 3), outputOf(bn, 4), outputOf(bn, 5)],
      bnAttrs,
    )
    ctx.gradients[gamma.index] = outputOf(grad, 1)
    ctx.gradients[beta.index] = outputOf(grad, 2)
    const dx4 = outputOf(grad, 0)
    return rank === 4 ? dx4 : g.reshape(dx4, g.constInt([-1, channels]))
  })
  return rank === 4 ? y4 : g.reshape(y4, g.constInt([-1, channels]))
}
