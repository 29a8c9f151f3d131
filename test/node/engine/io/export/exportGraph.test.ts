import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'

import { ExportError, exportGraphOf } from '@engine/io/export'
import { buildModel } from '@engine/model/build'
import { PRESETS } from '@engine/model/presets'
import { testMetadata } from '../../../helpers/modelFixtures'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** A model with InkLab's input, the given hidden layers and a softmax output for 10 classes. */
function modelWith(...hidden: tf.layers.Layer[]): tf.Sequential {
  const model = tf.sequential()
  model.add(tf.layers.inputLayer({ inputShape: [28, 28, 1] }))
  hidden.forEach((layer) => model.add(layer))
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'output' }))
  return model
}

function refusal(model: tf.LayersModel): string {
  try {
    exportGraphOf(model, testMetadata())
  } catch (error) {
    expect(error).toBeInstanceOf(ExportError)
    return (error as Error).message
  } finally {
    model.dispose()
  }
  throw new Error('the model was not refused')
}

describe('exportGraphOf', () => {
  it('describes every layer of a preset with its shapes and weights', () => {
    const model = buildModel(PRESETS.accurate.architecture, 10, 1)
    const graph = exportGraphOf(model, testMetadata())
    expect(graph.inputShape).toEqual([28, 28, 1])
    expect(graph.layers.map((l) => l.kind)).toEqual([
      ...PRESETS.accurate.architecture.layers.map((l) => l.type),
      'dense',
    ])
    const conv = graph.layers[0]
    expect(conv).toMatchObject({
      kind: 'conv2d',
      inputShape: [28, 28, 1],
      outputShape: [26, 26, 32],
    })
    if (conv.kind === 'conv2d') expect(conv.kernel.shape).toEqual([3, 3, 1, 32])
    model.dispose()
  })

  it('refuses a layer type InkLab does not build, naming it', () => {
    const message = refusal(
      modelWith(tf.layers.averagePooling2d({ poolSize: 2, name: 'avg' }), tf.layers.flatten()),
    )
    expect(message).toMatch(
      /^cannot export layer 1 "avg" \(AveragePooling2D\): InkLab reads only Conv2D, /,
    )
  })

  it('refuses options InkLab never sets, naming the layer and the option', () => {
    expect(
      refusal(
        modelWith(
          tf.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, name: 'dilated' }),
          tf.layers.flatten(),
        ),
      ),
    ).toMatch(/layer 1 "dilated" \(Conv2D\): dilationRate \[2,2\] is not supported/)
    expect(
      refusal(
        modelWith(
          tf.layers.flatten(),
          tf.layers.dense({ units: 4, activation: 'sigmoid', name: 'sig' }),
        ),
      ),
    ).toMatch(
      /"sig" \(Dense\): activation "sigmoid" is not supported \(only linear, relu, elu, tanh, softmax\)/,
    )
    expect(
      refusal(
        modelWith(tf.layers.flatten(), tf.layers.dense({ units: 4, useBias: false, name: 'nb' })),
      ),
    ).toMatch(/"nb" \(Dense\): useBias false is not supported/)
  })

  it('refuses a model whose output does not match its labels', () => {
    const model = buildModel(PRESETS.fast.architecture, 3, 1)
    expect(() => exportGraphOf(model, testMetadata())).toThrow(
      /the model has 3 outputs but its metadata lists 10 labels/,
    )
    model.dispose()
  })
})
