import { readFile } from 'node:fs/promises'

import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'

import { loadH5wasm } from '@engine/io/export'
import { createRng } from '@engine/data/rng'
import type { ArchitectureInput } from '@engine/model/validate'
import { PRESETS } from '@engine/model/presets'

/**
 * Small networks that together use every layer type and option InkLab's editor can produce:
 * each layer kind, each activation, valid/same padding, odd and even 'same' padding, strides
 * 1-4, pool sizes 2-4, batch norm on images and on vectors, dropout on both.
 */
export const LAYER_CASES: Record<string, ArchitectureInput> = {
  'conv2d relu valid + maxPool2d 2 + flatten + dense relu': {
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
      { type: 'maxPool2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 12, activation: 'relu' },
    ],
  },
  'conv2d elu same stride 2 + batchNorm (image) + globalAveragePool + dense tanh': {
    layers: [
      { type: 'conv2d', filters: 6, kernelSize: 5, strides: 2, padding: 'same', activation: 'elu' },
      { type: 'batchNorm' },
      { type: 'globalAveragePool' },
      { type: 'dense', units: 8, activation: 'tanh' },
    ],
  },
  'conv2d linear same stride 3 (odd padding) + maxPool2d 3 + conv2d tanh stride 4': {
    layers: [
      {
        type: 'conv2d',
        filters: 3,
        kernelSize: 4,
        strides: 3,
        padding: 'same',
        activation: 'linear',
      },
      { type: 'maxPool2d', poolSize: 3 },
      {
        type: 'conv2d',
        filters: 5,
        kernelSize: 2,
        strides: 4,
        padding: 'same',
        activation: 'tanh',
      },
      { type: 'flatten' },
    ],
  },
  'maxPool2d 4 + dropout (image) + flatten + dense linear + batchNorm (vector)': {
    layers: [
      { type: 'maxPool2d', poolSize: 4 },
      { type: 'dropout', rate: 0.3 },
      { type: 'flatten' },
      { type: 'dense', units: 7, activation: 'linear' },
      { type: 'batchNorm' },
    ],
  },
  'flatten first + dense elu + dropout (vector)': {
    layers: [
      { type: 'flatten' },
      { type: 'dense', units: 9, activation: 'elu' },
      { type: 'dropout', rate: 0.5 },
    ],
  },
  'preset classic': PRESETS.classic.architecture,
  'preset fast': PRESETS.fast.architecture,
  'preset accurate': PRESETS.accurate.architecture,
}

/**
 * Replaces every weight with seeded random values (moving variances positive), so batch norm
 * statistics and biases matter: a freshly built model's are all 0 or 1 and would hide mistakes.
 */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rng = createRng(seed)
  const weights = model.weights.map((w) => {
    const shape = w.shape as number[]
    const size = shape.reduce((a, b) => a * b, 1)
    const variance = w.originalName.endsWith('moving_variance')
    const values = Float32Array.from({ length: size }, () =>
      variance ? 0.5 + rng.next() : (rng.next() - 0.5) * 0.6,
    )
    return tf.tensor(values, shape)
  })
  model.setWeights(weights)
  weights.forEach((t) => t.dispose())
}

/** Images as the float input every export takes: (n, 28, 28, 1), pixel / 255. */
export function toFloatInput(images: Uint8Array[]): Float32Array {
  const out = new Float32Array(images.length * 784)
  images.forEach((image, i) => image.forEach((v, j) => (out[i * 784 + j] = v / 255)))
  return out
}

/** Largest absolute difference between two arrays of the same length. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`)
  let max = 0
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]))
  return max
}

/** What a Keras .h5 file holds, read back with h5wasm the way Keras reads it. */
export interface KerasFileContents {
  rootAttrs: Record<string, unknown>
  modelConfig: {
    class_name: string
    config: { name: string; layers: { class_name: string; config: Record<string, unknown> }[] }
  }
  weightAttrs: Record<string, unknown>
  layerNames: string[]
  /** Per layer, its weight names (Keras order) and arrays. */
  layers: Map<
    string,
    { weightNames: string[]; arrays: { shape: number[]; values: Float32Array }[] }
  >
}

/** Reads a Keras HDF5 model file: attributes, `model_config`, and `model_weights` by layer. */
export async function readKerasFile(path: string): Promise<KerasFileContents> {
  const h5wasm = await loadH5wasm()
  const file = new h5wasm.File(path, 'r')
  try {
    const attrs = (entity: {
      attrs: Record<string, { value: unknown }>
    }): Record<string, unknown> =>
      Object.fromEntries(Object.entries(entity.attrs).map(([k, a]) => [k, a.value]))
    const rootAttrs = attrs(file)
    const weightsGroup = file.get('model_weights') as InstanceType<typeof h5wasm.Group>
    const weightAttrs = attrs(weightsGroup)
    const layerNames = weightAttrs.layer_names as string[]
    const layers: KerasFileContents['layers'] = new Map()
    for (const name of layerNames) {
      const group = weightsGroup.get(name) as InstanceType<typeof h5wasm.Group>
      const raw = group.attrs.weight_names.value
      const weightNames = Array.isArray(raw) ? (raw as string[]) : []
      const arrays = weightNames.map((weightName) => {
        const dataset = group.get(weightName) as InstanceType<typeof h5wasm.Dataset>
        return { shape: dataset.shape ?? [], values: dataset.value as Float32Array }
      })
      layers.set(name, { weightNames, arrays })
    }
    return {
      rootAttrs,
      modelConfig: JSON.parse(rootAttrs.model_config as string),
      weightAttrs,
      layerNames,
      layers,
    }
  } finally {
    file.close()
  }
}

/**
 * Builds a model from a Keras file's `model_config` with tfjs-layers (the TypeScript port of
 * Keras, which reads Keras 2 configs), loads the file's weights by layer order as Keras's
 * `load_model` does, and returns its probabilities for `input`. An ensemble (a functional model of
 * Sequential networks averaged by an Average layer, which tfjs-layers cannot rebuild nested) is
 * run as Keras runs it: each network from its own config and weight group, then the mean.
 */
export async function predictFromKerasFile(
  path: string,
  input: Float32Array,
): Promise<Float32Array> {
  const contents = await readKerasFile(path)
  const { modelConfig } = contents
  if (modelConfig.class_name !== 'Functional') {
    return predictKeras(modelConfig, contents.layerNames, contents, input)
  }
  const layers = modelConfig.config.layers as (KerasLayer & {
    name: string
    inbound_nodes: unknown
  })[]
  const output = layers.at(-1)!
  if (output.class_name !== 'Average') throw new Error(`the model ends in ${output.class_name}`)
  const networks = layers.filter((l) => l.class_name === 'Sequential')
  const weighted = contents.layerNames.filter((n) => contents.layers.get(n)!.weightNames.length > 0)
  if (weighted.length !== networks.length) {
    throw new Error(
      `${weighted.length} layers with weights in the file, ${networks.length} networks`,
    )
  }
  const each = await Promise.all(
    networks.map(async (network, i) => {
      // Keras assigns a nested model's weights in one list: trainable first, then the others.
      const sequential = await tf.models.modelFromJSON({
        modelTopology: { class_name: 'Sequential', config: network.config } as never,
      })
      try {
        const arrays = contents.layers.get(weighted[i])!.arrays
        const tensors = arrays.map((a) => tf.tensor(a.values, a.shape))
        sequential.setWeights(tensors)
        tensors.forEach((t) => t.dispose())
        return predictWith(sequential, input)
      } finally {
        sequential.dispose()
      }
    }),
  )
  return each[0].map((_, j) => each.reduce((sum, probs) => sum + probs[j], 0) / each.length)
}

type KerasLayer = { class_name: string; config: Record<string, unknown> }

/** Probabilities of a tfjs model for 28x28x1 `input`. */
function predictWith(model: tf.LayersModel, input: Float32Array): Float32Array {
  const n = input.length / 784
  const probs = tf.tidy(() => model.predict(tf.tensor4d(input, [n, 28, 28, 1])) as tf.Tensor)
  const out = probs.dataSync() as Float32Array
  probs.dispose()
  return out
}

/** A model rebuilt from a Keras `model_config`, its weights loaded layer by layer in file order. */
async function predictKeras(
  modelConfig: KerasFileContents['modelConfig'],
  layerNames: string[],
  contents: KerasFileContents,
  input: Float32Array,
): Promise<Float32Array> {
  const model = await tf.models.modelFromJSON({
    modelTopology: modelConfig as unknown as tf.io.ModelJSON['modelTopology'],
  })
  try {
    const withWeights = model.layers.filter((l) => l.weights.length > 0)
    const saved = layerNames.filter((n) => contents.layers.get(n)!.weightNames.length > 0)
    if (withWeights.length !== saved.length) {
      throw new Error(
        `${saved.length} layers with weights in the file, ${withWeights.length} in the model`,
      )
    }
    withWeights.forEach((layer, i) => {
      const tensors = contents.layers.get(saved[i])!.arrays.map((a) => tf.tensor(a.values, a.shape))
      layer.setWeights(tensors)
      tensors.forEach((t) => t.dispose())
    })
    return predictWith(model, input)
  } finally {
    model.dispose()
  }
}

/** Runs an ONNX file with onnxruntime (CPU) and returns its `probabilities` for `input`. */
export async function predictWithOnnxRuntime(
  path: string,
  input: Float32Array,
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(await readFile(path))
  try {
    const n = input.length / 784
    const result = await session.run({ input: new ort.Tensor('float32', input, [n, 28, 28, 1]) })
    return result.probabilities.data as Float32Array
  } finally {
    await session.release()
  }
}
