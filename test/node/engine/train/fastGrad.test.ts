import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'

import { initBackend } from '@engine/backend/index'
import { conv2dFastGrad, maxPoolFastGrad } from '@engine/train/fastGrad'

beforeAll(async () => {
  await initBackend('wasm')
})

function expectClose(actual: tf.Tensor, expected: tf.Tensor, digits = 4): void {
  expect(actual.shape).toEqual(expected.shape)
  const a = actual.dataSync()
  const e = expected.dataSync()
  const scale = Math.max(1, ...Array.from(e, Math.abs))
  for (let i = 0; i < e.length; i++) expect(a[i] / scale).toBeCloseTo(e[i] / scale, digits)
}

describe('conv2dFastGrad', () => {
  type Shape4 = [number, number, number, number]
  const cases: [string, Shape4, number, number, number, 'same' | 'valid'][] = [
    // name, input [b,h,w,c], kernel, filters, stride, padding
    ['3x3 valid stride 1', [2, 13, 13, 3], 3, 4, 1, 'valid'],
    ['5x5 same stride 2', [2, 28, 28, 2], 5, 3, 2, 'same'],
    ['3x3 same stride 2 odd size', [1, 7, 7, 2], 3, 2, 2, 'same'],
    ['3x3 same stride 1', [2, 6, 5, 2], 3, 3, 1, 'same'],
    ['3x3 valid stride 2 with remainder', [2, 12, 12, 2], 3, 2, 2, 'valid'],
    ['4x4 same stride 3', [1, 11, 11, 2], 4, 2, 3, 'same'],
    ['1x1 valid stride 1', [2, 4, 4, 3], 1, 2, 1, 'valid'],
  ]
  for (const [name, shape, k, filters, stride, padding] of cases) {
    it(`matches tf.conv2d values and gradients: ${name}`, () => {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D
      const w = tf.randomNormal([k, k, shape[3], filters], 0, 1, 'float32', 2) as tf.Tensor4D
      const probe = (conv: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => {
          const y = conv(a as tf.Tensor4D, b as tf.Tensor4D)
          // A non-uniform upstream gradient, so every output position matters.
          return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))))
        })
      const ours = probe((a, b) => conv2dFastGrad(a, b, stride, padding))([x, w])
      const ref = probe((a, b) => tf.conv2d(a, b, stride, padding))([x, w])
      expectClose(conv2dFastGrad(x, w, stride, padding), tf.conv2d(x, w, stride, padding))
      expectClose(ours[0], ref[0])
      expectClose(ours[1], ref[1])
      tf.dispose([x, w, ...ours, ...ref])
    })
  }
})

describe('maxPoolFastGrad', () => {
  for (const [shape, pool] of [
    [[2, 26, 26, 3], 2],
    [[2, 11, 11, 2], 2],
    [[1, 10, 10, 2], 3],
  ] as [[number, number, number, number], number][]) {
    it(`matches tf.maxPool values and gradients on ${shape.join('x')} pool ${pool}`, () => {
      // Distinct values, so there are no ties (ties are where the two may legitimately differ).
      const x = tf.randomUniform(shape, -1, 1, 'float32', 5) as tf.Tensor4D
      const probe = (pooling: (x: tf.Tensor4D) => tf.Tensor4D) =>
        tf.grad((a: tf.Tensor) => {
          const y = pooling(a as tf.Tensor4D)
          return tf.sum(tf.mul(y, tf.cos(tf.range(0, y.size).reshape(y.shape))))
        })(x)
      expectClose(maxPoolFastGrad(x, pool), tf.maxPool(x, pool, pool, 'valid'))
      expectClose(
        probe((a) => maxPoolFastGrad(a, pool)),
        probe((a) => tf.maxPool(a, pool, pool, 'valid')),
      )
      x.dispose()
    })
  }
})
