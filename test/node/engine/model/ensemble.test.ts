import * as tf from '@tensorflow/tfjs'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

import { loadModel, saveModel } from '@engine/io/modelFiles'
import { predictBatch } from '@engine/native/predictor'
import { buildModel } from '@engine/model/build'
import { combineModels, ensembleSize } from '@engine/model/ensemble'
import { LayerError, readEnsemble, readLayers } from '@engine/model/layers'
import { PRESETS } from '@engine/model/presets'

import { useTestBackend } from '../../helpers/backend'
import { testMetadata } from '../../helpers/modelFixtures'
import { makeTmpDir } from '../../helpers/tmpDir'

const models: tf.LayersModel[] = []
function keep<T extends tf.LayersModel>(model: T): T {
  models.push(model)
  return model
}

/** Three differently initialised networks of the fast preset (batch norm, dense, no dropout). */
function members(): tf.LayersModel[] {
  return [1, 2, 3].map((seed) => keep(buildModel(PRESETS.fast.architecture, 10, seed)))
}

/** A batch of random images, fixed by `seed`. */
function images(count: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([count, 28, 28, 1], 0, 1, 'float32', seed) as tf.Tensor4D
}

function probabilities(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  const y = predictBatch(model, x)
  try {
    return y.dataSync() as Float32Array
  } finally {
    y.dispose()
  }
}

beforeAll(async () => {
  await useTestBackend()
})
afterEach(() => {
  models.splice(0).forEach((model) => model.dispose())
})

describe('combineModels', () => {
  it("outputs the mean of its members' class probabilities and leaves them as they were", () => {
    const nets = members()
    const x = images(6, 7)
    try {
      const alone = nets.map((net) => probabilities(net, x))
      const together = probabilities(keep(combineModels(nets)), x)
      expect(together).toHaveLength(60)
      together.forEach((p, i) => {
        expect(p).toBeCloseTo((alone[0][i] + alone[1][i] + alone[2][i]) / 3, 5)
      })
      // The members still predict as before: the ensemble holds copies of their weights.
      nets.forEach((net, k) => expect(probabilities(net, x)).toEqual(alone[k]))
    } finally {
      x.dispose()
    }
  })

  it('counts its members, and a single model is its own ensemble', () => {
    const nets = members()
    const ensemble = keep(combineModels(nets))
    expect(ensembleSize(ensemble)).toBe(3)
    expect(ensembleSize(nets[0])).toBe(1)
    expect(combineModels([nets[0]])).toBe(nets[0])
    expect(() => combineModels([])).toThrow(/at least one/)
    expect(ensemble.layers.at(-1)!.name).toBe('output')
    expect(ensemble.layers.map((l) => l.name)).toContain('m3_conv2d_1')
  })

  it('saves and loads as one TF.js model that predicts the same', async () => {
    const { dir, cleanup } = await makeTmpDir('inklab-ensemble-')
    const x = images(4, 3)
    try {
      const ensemble = keep(combineModels(members()))
      await saveModel(join(dir, 'model'), ensemble, testMetadata({ members: 3 }))
      const loaded = await loadModel(join(dir, 'model'))
      keep(loaded.model)
      expect(loaded.metadata.members).toBe(3)
      expect(ensembleSize(loaded.model)).toBe(3)
      expect(probabilities(loaded.model, x)).toEqual(probabilities(ensemble, x))
    } finally {
      x.dispose()
      await cleanup()
    }
  })

  it('reads as its networks, in the order it averages them; never as one network', () => {
    const nets = members()
    const ensemble = keep(combineModels(nets))
    const { inputShape, members: read } = readEnsemble(ensemble)
    expect(inputShape).toEqual([28, 28, 1])
    const single = readLayers(nets[0]).layers
    expect(read.map((layers) => layers.map((l) => l.name))).toEqual(
      [1, 2, 3].map((k) => single.map((l) => `m${k}_${l.name}`)),
    )
    expect(read[2].map((l) => l.kind)).toEqual(single.map((l) => l.kind))
    expect(readEnsemble(nets[0]).members).toHaveLength(1)
    // The native graphs and anything else that reads one network refuse it in words.
    expect(() => readLayers(ensemble)).toThrow(LayerError)
    expect(() => readLayers(ensemble)).toThrow(/averages 3 networks \(an ensemble\), not one/)
  })
})
