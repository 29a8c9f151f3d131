import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

import { ArchitectureError, buildModel } from '@engine/model/build'
import { PRESETS } from '@engine/model/presets'
import { validateArchitecture } from '@engine/model/validate'
import { useTestBackend } from '../../helpers/backend'

const built: tf.LayersModel[] = []
function build(...args: Parameters<typeof buildModel>): tf.LayersModel {
  const model = buildModel(...args)
  built.push(model)
  return model
}

beforeAll(async () => {
  await useTestBackend()
})

afterEach(() => {
  built.splice(0).forEach((m) => m.dispose())
})

describe('buildModel', () => {
  it('builds every preset with the parameter count validation predicts', () => {
    for (const [name, preset] of Object.entries(PRESETS)) {
      const model = build(preset.architecture, 10, 1)
      expect(model.countParams(), name).toBe(
        validateArchitecture(preset.architecture, 10).totalParams,
      )
      expect(model.outputs[0].shape).toEqual([null, 10])
      const last = model.layers[model.layers.length - 1]
      expect(last.getClassName()).toBe('Dense')
      expect(last.getConfig().activation).toBe('softmax')
    }
  })

  it('gives the same initial weights for the same seed and different ones otherwise', () => {
    const arch = PRESETS.classic.architecture
    const a = build(arch, 10, 7)
      .getWeights()
      .map((w) => Array.from(w.dataSync()))
    const b = build(arch, 10, 7)
      .getWeights()
      .map((w) => Array.from(w.dataSync()))
    const c = build(arch, 10, 8)
      .getWeights()
      .map((w) => Array.from(w.dataSync()))
    expect(a).toEqual(b)
    expect(a[0]).not.toEqual(c[0])
  })

  it('predicts probabilities that sum to 1', () => {
    const model = build({ layers: [{ type: 'flatten' }, { type: 'dense', units: 8 }] }, 3, 1)
    const sums = tf.tidy(() =>
      (model.predict(tf.ones([2, 28, 28, 1])) as tf.Tensor).sum(1).arraySync(),
    )
    expect(sums).toEqual([expect.closeTo(1, 5), expect.closeTo(1, 5)])
  })

  it('throws ArchitectureError with every problem', () => {
    expect(() =>
      buildModel({ layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }] }, 10, 1),
    ).toThrow(ArchitectureError)
    expect(() =>
      buildModel({ layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }] }, 10, 1),
    ).toThrow(/end the architecture with flatten/)
  })

  it('refuses flatten of a vector with the validation words, not tfjs\'s "expected min_ndim=3"', () => {
    const layers = [
      { type: 'flatten' as const },
      { type: 'dense' as const, units: 9 },
      { type: 'flatten' as const },
    ]
    expect(() => buildModel({ layers }, 10, 1)).toThrow(ArchitectureError)
    expect(() => buildModel({ layers }, 10, 1)).toThrow(
      /layer 3 \(flatten\): input is already a vector of 9; remove this flatten/,
    )
  })
})
