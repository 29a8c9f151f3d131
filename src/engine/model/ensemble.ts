import * as tf from '@tensorflow/tfjs'

import { OUTPUT_LAYER_NAME } from './build'
import { INPUT_SIZE } from './validate'

/** Class name of the layer that averages the members' probabilities. */
const AVERAGE_CLASS = 'Average'

/**
 * The name of network `index` (0-based) of an ensemble: `m1`, `m2`, ...; its layers are named
 * `m1_conv2d_1`, ... in the TF.js model, and the exporters name its Keras model so.
 */
export function memberName(index: number): string {
  return `m${index + 1}`
}

/** A copy of `layer` under another name, built from its config (not yet applied, no weights). */
function renamedCopy(layer: tf.layers.Layer, name: string): tf.layers.Layer {
  const config: tf.serialization.ConfigDict = { ...layer.getConfig(), name }
  delete config.batchInputShape
  delete config.inputShape
  const cls = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()]
  if (!cls) throw new Error(`cannot copy a ${layer.getClassName()} layer`)
  const [constructor, fromConfig] = cls
  return fromConfig(constructor, config) as tf.layers.Layer
}

/**
 * One model that averages the class probabilities of `members`: sequential softmax classifiers of
 * one 28x28x1 input and the same classes (InkLab's own). Each member's layers are copied with
 * their weights under the names `m1_conv2d_1`, `m2_conv2d_1`, ...; the output is an Average layer
 * named `output`. The result is a plain functional TF.js model (saved, loaded and run like any
 * other); the members stay the caller's. A single member is returned as it is.
 */
export function combineModels(members: readonly tf.LayersModel[]): tf.LayersModel {
  if (members.length === 0) throw new Error('an ensemble needs at least one model')
  if (members.length === 1) return members[0]
  const input = tf.input({ shape: [INPUT_SIZE, INPUT_SIZE, 1], name: 'input' })
  const outputs = members.map((member, index) => {
    let h: tf.SymbolicTensor = input
    for (const layer of member.layers) {
      if (layer.getClassName() === 'InputLayer') continue
      const copy = renamedCopy(layer, `${memberName(index)}_${layer.name}`)
      h = copy.apply(h) as tf.SymbolicTensor
      copy.setWeights(layer.getWeights())
    }
    return h
  })
  const average = tf.layers.average({ name: OUTPUT_LAYER_NAME }).apply(outputs) as tf.SymbolicTensor
  return tf.model({ inputs: input, outputs: average, name: `ensemble_of_${members.length}` })
}

/**
 * How many networks `model` averages: the inputs of its Average output layer for an ensemble
 * `combineModels` built, else 1.
 */
export function ensembleSize(model: tf.LayersModel): number {
  const last = model.layers[model.layers.length - 1]
  if (last?.getClassName() !== AVERAGE_CLASS) return 1
  return last.inboundNodes[0]?.inboundLayers.length ?? 1
}

/**
 * The layers of each network of an ensemble `combineModels` built, each from its first layer after
 * the input to its softmax, in the order the output averages them; found by following the
 * graph back from the Average layer, so names do not matter.
 */
export function memberChains(model: tf.LayersModel): tf.layers.Layer[][] {
  const average = model.layers[model.layers.length - 1]
  if (average?.getClassName() !== AVERAGE_CLASS) return []
  return average.inboundNodes[0].inboundLayers.map((last) => {
    const chain: tf.layers.Layer[] = []
    for (let layer = last; layer.getClassName() !== 'InputLayer';) {
      chain.unshift(layer)
      const inbound = layer.inboundNodes[0]?.inboundLayers
      if (inbound?.length !== 1) throw new Error(`layer ${layer.name} is not in a chain`)
      layer = inbound[0]
    }
    return chain
  })
}
