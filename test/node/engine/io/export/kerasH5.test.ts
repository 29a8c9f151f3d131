import { join } from 'node:path'

import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  exportGraphOf,
  KERAS_FORMAT_VERSION,
  KERAS_METADATA_ATTRIBUTE,
  kerasModelConfig,
  writeModelExport,
} from '@engine/io/export'
import { buildModel } from '@engine/model/build'
import { PRESETS } from '@engine/model/presets'
import { EXPORT_INPUT } from '@shared/schemas/export'
import { testMetadata } from '../../../helpers/modelFixtures'
import { makeTmpDir } from '../../../helpers/tmpDir'
import { randomizeWeights, readKerasFile, type KerasFileContents } from './helpers'

let tmp: Awaited<ReturnType<typeof makeTmpDir>>
let model: tf.Sequential
let contents: KerasFileContents
const metadata = testMetadata({ name: 'digits: fast/v2', labels: ['a', 'é', '字'] })

beforeAll(async () => {
  await tf.setBackend('cpu')
  tmp = await makeTmpDir('inklab-keras-')
  model = buildModel(PRESETS.fast.architecture, 3, 1)
  randomizeWeights(model, 2)
  const out = join(tmp.dir, 'model.h5')
  await writeModelExport(model, metadata, { format: 'keras', out })
  contents = await readKerasFile(out)
})

afterAll(async () => {
  model.dispose()
  await tmp.cleanup()
})

describe('Keras .h5 export: the layout keras.models.load_model reads', () => {
  it('has the root and model_weights attributes of a Keras 2 file', () => {
    expect(contents.rootAttrs.keras_version).toBe(KERAS_FORMAT_VERSION)
    expect(contents.rootAttrs.backend).toBe('tensorflow')
    expect(contents.weightAttrs.keras_version).toBe(KERAS_FORMAT_VERSION)
    expect(contents.weightAttrs.backend).toBe('tensorflow')
  })

  it('describes a Sequential with an input layer and one Keras layer per InkLab layer', () => {
    const { class_name, config } = contents.modelConfig
    expect(class_name).toBe('Sequential')
    // Keras refuses "/" in names; the model's name is made safe.
    expect(config.name).toBe('inklab_digits_fast_v2')
    expect(config.layers[0]).toEqual({
      class_name: 'InputLayer',
      config: { name: 'input', batch_input_shape: [null, 28, 28, 1], dtype: 'float32' },
    })
    expect(config.layers.slice(1).map((l) => [l.class_name, l.config.name])).toEqual(
      model.layers.map((l) => [l.getClassName(), l.name]),
    )
    const conv = config.layers[1].config
    expect(conv).toMatchObject({
      filters: 16,
      kernel_size: [5, 5],
      strides: [2, 2],
      padding: 'same',
      activation: 'relu',
      data_format: 'channels_last',
    })
    expect(config.layers.at(-1)!.config).toMatchObject({ units: 3, activation: 'softmax' })
  })

  it('lists every layer in model_weights, with its weights under Keras names', () => {
    expect(contents.layerNames).toEqual(model.layers.map((l) => l.name))
    expect(contents.layers.get('conv2d_1')!.weightNames).toEqual([
      'conv2d_1/kernel:0',
      'conv2d_1/bias:0',
    ])
    expect(contents.layers.get('batchNorm_2')!.weightNames).toEqual([
      'batchNorm_2/gamma:0',
      'batchNorm_2/beta:0',
      'batchNorm_2/moving_mean:0',
      'batchNorm_2/moving_variance:0',
    ])
    expect(contents.layers.get('flatten_5')!.weightNames).toEqual([])
  })

  it('stores each weight exactly, in the shape Keras expects', () => {
    for (const layer of model.layers) {
      const saved = contents.layers.get(layer.name)!
      const own = layer.getWeights()
      expect(saved.arrays).toHaveLength(own.length)
      own.forEach((tensor, i) => {
        expect(saved.arrays[i].shape).toEqual(tensor.shape)
        expect(Array.from(saved.arrays[i].values)).toEqual(Array.from(tensor.dataSync()))
      })
    }
  })

  it('carries the labels and the input convention in the inklab_metadata attribute', () => {
    const meta = JSON.parse(contents.rootAttrs[KERAS_METADATA_ATTRIBUTE] as string)
    expect(meta.labels).toEqual(['a', 'é', '字'])
    expect(meta.input).toEqual({ ...EXPORT_INPUT, shape: [28, 28, 1] })
    expect(meta.preprocessing).toEqual(metadata.preprocessing)
  })

  it('names the input layer so that it does not clash with a layer called "input"', () => {
    const graph = exportGraphOf(model, metadata)
    graph.layers[0] = { ...graph.layers[0], name: 'input' }
    const config = kerasModelConfig(graph) as typeof contents.modelConfig
    expect(config.config.layers[0].config.name).toBe('input_2')
  })
})
