import type { Group } from 'h5wasm/node'

import { memberName } from '../../model/ensemble'
import { exportMetadata, type ExportGraph, type ExportLayer, type WeightArray } from './exportGraph'
import { loadH5wasm } from './h5wasm'

/**
 * The Keras HDF5 layout written: tf.keras 2's `model.save('x.h5')` (Keras 2 layer configs,
 * `model_weights/<layer>/<layer>/<weight>:0`). Keras 3 reads it through its legacy H5 loader and
 * tf.keras 2 natively; Keras 3's own H5 layout would not load in tf.keras 2.
 */
export const KERAS_FORMAT_VERSION = '2.15.0'
/** The backend written into the file: Keras converts kernels only for 'theano'. */
const KERAS_BACKEND = 'tensorflow'

/** Name of the root attribute holding `exportMetadata` as JSON (labels, input convention). */
export const KERAS_METADATA_ATTRIBUTE = 'inklab_metadata'

type KerasLayerConfig = { class_name: string; config: Record<string, unknown> }

/** A layer's weights in the order Keras stores them, with their Keras names. */
export function kerasWeights(layer: ExportLayer): { name: string; array: WeightArray }[] {
  const named = (pairs: [string, WeightArray][]): { name: string; array: WeightArray }[] =>
    pairs.map(([role, array]) => ({ name: `${layer.name}/${role}:0`, array }))
  switch (layer.kind) {
    case 'conv2d':
    case 'dense':
      return named([
        ['kernel', layer.kernel],
        ['bias', layer.bias],
      ])
    case 'batchNorm':
      return named([
        ['gamma', layer.gamma],
        ['beta', layer.beta],
        ['moving_mean', layer.movingMean],
        ['moving_variance', layer.movingVariance],
      ])
    default:
      return []
  }
}

function layerConfig(layer: ExportLayer): KerasLayerConfig {
  const common = { name: layer.name, trainable: true, dtype: 'float32' }
  switch (layer.kind) {
    case 'conv2d':
      return {
        class_name: 'Conv2D',
        config: {
          ...common,
          filters: layer.filters,
          kernel_size: layer.kernelSize,
          strides: layer.strides,
          padding: layer.padding,
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          activation: layer.activation,
          use_bias: true,
        },
      }
    case 'maxPool2d':
      return {
        class_name: 'MaxPooling2D',
        config: {
          ...common,
          pool_size: layer.poolSize,
          strides: layer.strides,
          padding: 'valid',
          data_format: 'channels_last',
        },
      }
    case 'batchNorm':
      return {
        class_name: 'BatchNormalization',
        config: {
          ...common,
          axis: -1,
          momentum: layer.momentum,
          epsilon: layer.epsilon,
          center: true,
          scale: true,
        },
      }
    case 'dropout':
      return {
        class_name: 'Dropout',
        config: { ...common, rate: layer.rate, noise_shape: null, seed: null },
      }
    case 'flatten':
      return { class_name: 'Flatten', config: { ...common, data_format: 'channels_last' } }
    case 'globalAveragePool':
      return {
        class_name: 'GlobalAveragePooling2D',
        config: { ...common, data_format: 'channels_last' },
      }
    case 'dense':
      return {
        class_name: 'Dense',
        config: { ...common, units: layer.units, activation: layer.activation, use_bias: true },
      }
  }
}

/** A Keras model name: letters, digits and underscores (Keras refuses '/' in names). */
function kerasName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return `inklab_${slug || 'model'}`.slice(0, 64)
}

/** A Keras 2 Sequential of `layers` with an explicit input layer (named so that no layer clashes). */
function sequentialConfig(
  name: string,
  inputShape: number[],
  layers: readonly ExportLayer[],
  input = 'input',
): KerasLayerConfig {
  const names = new Set(layers.map((l) => l.name))
  let inputName = input
  for (let n = 2; names.has(inputName); n++) inputName = `${input}_${n}`
  return {
    class_name: 'Sequential',
    config: {
      name,
      layers: [
        {
          class_name: 'InputLayer',
          config: { name: inputName, batch_input_shape: [null, ...inputShape], dtype: 'float32' },
        },
        ...layers.map(layerConfig),
      ],
    },
  }
}

/**
 * The `model_config` JSON of a graph: a Keras 2 Sequential with an explicit input layer; for an
 * ensemble, a Keras 2 functional model whose networks are such Sequentials (`m1`, `m2`, ...), all
 * fed by the input and averaged by an Average layer named `output`.
 */
export function kerasModelConfig(graph: ExportGraph): Record<string, unknown> {
  const name = kerasName(graph.metadata.name)
  const format = { keras_version: KERAS_FORMAT_VERSION, backend: KERAS_BACKEND }
  if (!graph.members)
    return { ...sequentialConfig(name, graph.inputShape, graph.layers), ...format }
  const networks = graph.members.map((layers, k) => ({
    // Its own input layer is named apart from the model's (tfjs-layers would mix them up).
    ...sequentialConfig(memberName(k), graph.inputShape, layers, `${memberName(k)}_input`),
    name: memberName(k),
    inbound_nodes: [[['input', 0, 0, {}]]],
  }))
  return {
    class_name: 'Functional',
    config: {
      name,
      layers: [
        {
          class_name: 'InputLayer',
          config: {
            name: 'input',
            batch_input_shape: [null, ...graph.inputShape],
            dtype: 'float32',
          },
          name: 'input',
          inbound_nodes: [],
        },
        ...networks,
        {
          class_name: 'Average',
          config: { name: 'output', trainable: true, dtype: 'float32' },
          name: 'output',
          inbound_nodes: [networks.map((network) => [network.name, 0, 0, {}])],
        },
      ],
      input_layers: [['input', 0, 0]],
      output_layers: [['output', 0, 0]],
    },
    ...format,
  }
}

/**
 * The weights of each Keras layer that has any, in the order Keras' H5 loader assigns them: per
 * layer; a network of an ensemble is one Keras layer whose trainable weights (kernels, biases,
 * batch-norm scales and offsets) come before the others (batch-norm moving statistics).
 */
function kerasLayerWeights(
  graph: ExportGraph,
): { name: string; weights: ReturnType<typeof kerasWeights> }[] {
  if (!graph.members)
    return graph.layers.map((layer) => ({ name: layer.name, weights: kerasWeights(layer) }))
  return graph.members.map((layers, k) => {
    const weights = layers.flatMap(kerasWeights)
    const moving = (w: { name: string }): boolean => /\/moving_(mean|variance):0$/.test(w.name)
    return {
      name: memberName(k),
      weights: [...weights.filter((w) => !moving(w)), ...weights.filter(moving)],
    }
  })
}

/**
 * Writes `graph` as a Keras HDF5 model file at `path` (which must not be open elsewhere; it is
 * created or truncated). The labels and input convention go into the root attribute
 * `inklab_metadata` (JSON).
 */
export async function writeKerasH5(graph: ExportGraph, path: string): Promise<void> {
  const h5wasm = await loadH5wasm()
  const file = new h5wasm.File(path, 'w')
  try {
    file.create_attribute('keras_version', KERAS_FORMAT_VERSION)
    file.create_attribute('backend', KERAS_BACKEND)
    file.create_attribute('model_config', JSON.stringify(kerasModelConfig(graph)))
    file.create_attribute(KERAS_METADATA_ATTRIBUTE, JSON.stringify(exportMetadata(graph)))
    const weights = file.create_group('model_weights')
    const layers = kerasLayerWeights(graph)
    weights.create_attribute(
      'layer_names',
      layers.map((l) => l.name),
    )
    weights.create_attribute('backend', KERAS_BACKEND)
    weights.create_attribute('keras_version', KERAS_FORMAT_VERSION)
    for (const layer of layers) {
      const group = weights.create_group(layer.name)
      const arrays = layer.weights
      // An empty float64 array, as h5py writes an empty list (Keras reads it as "no weights").
      if (arrays.length === 0) group.create_attribute('weight_names', new Float64Array(0), [0])
      else
        group.create_attribute(
          'weight_names',
          arrays.map((w) => w.name),
        )
      for (const { name, array } of arrays) {
        // `conv2d_1/kernel:0` lives at `model_weights/conv2d_1/conv2d_1/kernel:0`; a network of
        // an ensemble's `m1_conv2d_1/kernel:0` at `model_weights/m1/m1_conv2d_1/kernel:0`.
        const parts = name.split('/')
        let parent = group
        for (const part of parts.slice(0, -1)) {
          parent = (parent.get(part) as Group | null) ?? parent.create_group(part)
        }
        parent.create_dataset({
          name: parts[parts.length - 1],
          data: array.values,
          shape: array.shape,
          dtype: '<f',
        })
      }
    }
  } finally {
    file.close()
  }
}
