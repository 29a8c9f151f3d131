import type { Group } from 'h5wasm/node'

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

/** The `model_config` JSON of a graph: a Keras 2 Sequential with an explicit input layer. */
export function kerasModelConfig(graph: ExportGraph): Record<string, unknown> {
  const names = new Set(graph.layers.map((l) => l.name))
  let inputName = 'input'
  for (let n = 2; names.has(inputName); n++) inputName = `input_${n}`
  return {
    class_name: 'Sequential',
    config: {
      name: kerasName(graph.metadata.name),
      layers: [
        {
          class_name: 'InputLayer',
          config: {
            name: inputName,
            batch_input_shape: [null, ...graph.inputShape],
            dtype: 'float32',
          },
        },
        ...graph.layers.map(layerConfig),
      ],
    },
    keras_version: KERAS_FORMAT_VERSION,
    backend: KERAS_BACKEND,
  }
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
    weights.create_attribute(
      'layer_names',
      graph.layers.map((l) => l.name),
    )
    weights.create_attribute('backend', KERAS_BACKEND)
    weights.create_attribute('keras_version', KERAS_FORMAT_VERSION)
    for (const layer of graph.layers) {
      const group = weights.create_group(layer.name)
      const arrays = kerasWeights(layer)
      // An empty float64 array, as h5py writes an empty list (Keras reads it as "no weights").
      if (arrays.length === 0) group.create_attribute('weight_names', new Float64Array(0), [0])
      else
        group.create_attribute(
          'weight_names',
          arrays.map((w) => w.name),
        )
      for (const { name, array } of arrays) {
        // `conv2d_1/kernel:0` lives at `model_weights/conv2d_1/conv2d_1/kernel:0`.
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
