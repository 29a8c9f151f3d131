import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@engine/backend'
import {
  conv2DBackpropFilterWasm,
  conv2DBackpropInputWasm,
  maxPoolGradWasm,
  registerWasmTrainingKernels,
  tileWasm,
} from '@engine/backend/wasmKernels'

type Shape4 = [number, number, number, number]

type Pad = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]]

interface PoolCase {
  x: Shape4
  size: number
  stride: number
  pad: 'valid' | 'same'
}

interface Case {
  x: [number, number, number, number]
  filter: [number, number]
  outChannels: number
  stride: number
  pad: Pad
}

/** Deterministic values in [-1, 1). */
function randomValues(size: number, seed: number): Float32Array {
  let s = seed >>> 0
  const out = new Float32Array(size)
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s / 2 ** 31 - 1
  }
  return out
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

/** Padding and output size, written out from the TensorFlow definitions, not taken from tfjs. */
function geometry(size: number, filter: number, stride: number, pad: Pad, axis: 1 | 2) {
  if (pad === 'valid') return { out: Math.ceil((size - filter + 1) / stride), before: 0 }
  if (pad === 'same') {
    const out = Math.ceil(size / stride)
    const total = Math.max((out - 1) * stride + filter - size, 0)
    return { out, before: Math.floor(total / 2) }
  }
  const [before, after] = pad[axis]
  return { out: Math.floor((size + before + after - filter) / stride) + 1, before }
}

/** Direct float64 loop: dW[fh, fw, c, oc] = sum over n, oh, ow of x[n, ih, iw, c] * dy[n, oh, ow, oc]. */
function referenceFilterGrad(c: Case, x: Float32Array, dy: Float32Array): Float64Array {
  const [N, H, W, C] = c.x
  const [FH, FW] = c.filter
  const OC = c.outChannels
  const rows = geometry(H, FH, c.stride, c.pad, 1)
  const cols = geometry(W, FW, c.stride, c.pad, 2)
  const dw = new Float64Array(FH * FW * C * OC)
  for (let fh = 0; fh < FH; fh++)
    for (let fw = 0; fw < FW; fw++)
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < rows.out; oh++) {
          const ih = oh * c.stride + fh - rows.before
          if (ih < 0 || ih >= H) continue
          for (let ow = 0; ow < cols.out; ow++) {
            const iw = ow * c.stride + fw - cols.before
            if (iw < 0 || iw >= W) continue
            for (let ci = 0; ci < C; ci++) {
              const xv = x[((n * H + ih) * W + iw) * C + ci]
              const dyBase = ((n * rows.out + oh) * cols.out + ow) * OC
              const dwBase = ((fh * FW + fw) * C + ci) * OC
              for (let o = 0; o < OC; o++) dw[dwBase + o] += xv * dy[dyBase + o]
            }
          }
        }
  return dw
}

/** Direct float64 loop: dx[n, ih, iw, c] = sum over taps and oc of dy[n, oh, ow, oc] * w[fh, fw, c, oc]. */
function referenceInputGrad(c: Case, w: Float32Array, dy: Float32Array): Float64Array {
  const [N, H, W, C] = c.x
  const [FH, FW] = c.filter
  const OC = c.outChannels
  const rows = geometry(H, FH, c.stride, c.pad, 1)
  const cols = geometry(W, FW, c.stride, c.pad, 2)
  const dx = new Float64Array(N * H * W * C)
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < rows.out; oh++)
      for (let ow = 0; ow < cols.out; ow++)
        for (let fh = 0; fh < FH; fh++) {
          const ih = oh * c.stride + fh - rows.before
          if (ih < 0 || ih >= H) continue
          for (let fw = 0; fw < FW; fw++) {
            const iw = ow * c.stride + fw - cols.before
            if (iw < 0 || iw >= W) continue
            for (let ci = 0; ci < C; ci++)
              for (let o = 0; o < OC; o++)
                dx[((n * H + ih) * W + iw) * C + ci] +=
                  dy[((n * rows.out + oh) * cols.out + ow) * OC + o] *
                  w[((fh * FW + fw) * C + ci) * OC + o]
          }
        }
  return dx
}

function outShape(c: Case): [number, number, number, number] {
  const rows = geometry(c.x[1], c.filter[0], c.stride, c.pad, 1)
  const cols = geometry(c.x[2], c.filter[1], c.stride, c.pad, 2)
  return [c.x[0], rows.out, cols.out, c.outChannels]
}

function runKernel(c: Case, x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(
    'Conv2DBackpropFilter',
    { x, dy },
    {
      strides: c.stride,
      pad: c.pad,
      dataFormat: 'NHWC',
      filterShape: [c.filter[0], c.filter[1], c.x[3], c.outChannels],
    },
  ) as tf.Tensor
}

/** Max abs error divided by the largest reference magnitude. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let err = 0
  let scale = 0
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]))
    scale = Math.max(scale, Math.abs(expected[i]))
  }
  return err / Math.max(scale, 1e-12)
}

const CASES: Case[] = [
  { x: [2, 7, 7, 1], filter: [3, 3], outChannels: 4, stride: 1, pad: 'valid' },
  { x: [3, 8, 8, 3], filter: [3, 3], outChannels: 5, stride: 1, pad: 'same' },
  { x: [2, 9, 8, 4], filter: [3, 3], outChannels: 6, stride: 2, pad: 'same' },
  { x: [2, 10, 9, 2], filter: [3, 3], outChannels: 3, stride: 2, pad: 'valid' },
  { x: [3, 6, 7, 8], filter: [2, 2], outChannels: 4, stride: 2, pad: 'same' },
  { x: [2, 11, 11, 5], filter: [5, 5], outChannels: 7, stride: 1, pad: 'same' },
  { x: [4, 12, 12, 16], filter: [3, 3], outChannels: 8, stride: 2, pad: 'same' },
  {
    x: [2, 8, 9, 3],
    filter: [3, 2],
    outChannels: 2,
    stride: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { x: [1, 5, 5, 2], filter: [1, 1], outChannels: 3, stride: 2, pad: 'valid' },
]

function label(c: Case): string {
  return `x ${c.x.join('x')}, filter ${c.filter.join('x')}x${c.outChannels}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`
}

describe('wasm training kernels', () => {
  beforeAll(async () => {
    await initBackend('wasm')
  })

  it('registers each kernel once', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc).toBe(conv2DBackpropFilterWasm)
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(conv2DBackpropInputWasm)
    expect(tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc).toBe(maxPoolGradWasm)
    expect(tf.getKernel('Tile', 'wasm')?.kernelFunc).toBe(tileWasm)
    expect(registerWasmTrainingKernels()).toEqual([])
  })

  for (const c of CASES) {
    it(`Conv2DBackpropFilter matches a direct float64 loop: ${label(c)}`, () => {
      const xs = randomValues(size(c.x), 1)
      const dyShape = outShape(c)
      const dys = randomValues(size(dyShape), 2)
      const expected = referenceFilterGrad(c, xs, dys)
      const x = tf.tensor4d(xs, c.x)
      const dy = tf.tensor4d(dys, dyShape)
      const before = tf.engine().backend.numDataIds()
      const dw = runKernel(c, x, dy)
      expect(dw.shape).toEqual([c.filter[0], c.filter[1], c.x[3], c.outChannels])
      expect(relativeError(dw.dataSync(), expected)).toBeLessThan(1e-5)
      dw.dispose()
      expect(tf.engine().backend.numDataIds()).toBe(before)
      tf.dispose([x, dy])
    })
  }

  for (const c of CASES) {
    it(`Conv2DBackpropInput matches a direct float64 loop: ${label(c)}`, () => {
      const filterShape: Shape4 = [c.filter[0], c.filter[1], c.x[3], c.outChannels]
      const ws = randomValues(size(filterShape), 3)
      const dyShape = outShape(c)
      const dys = randomValues(size(dyShape), 4)
      const expected = referenceInputGrad(c, ws, dys)
      const w = tf.tensor4d(ws, filterShape)
      const dy = tf.tensor4d(dys, dyShape)
      const before = tf.engine().backend.numDataIds()
      const dx = tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter: w },
          { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
        ) as tf.Tensor
      expect(dx.shape).toEqual(c.x)
      expect(relativeError(dx.dataSync(), expected)).toBeLessThan(1e-5)
      dx.dispose()
      expect(tf.engine().backend.numDataIds()).toBe(before)
      tf.dispose([w, dy])
    })
  }

  const POOLS: PoolCase[] = [
    { x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid' },
    { x: [2, 9, 7, 4], size: 2, stride: 2, pad: 'valid' },
    { x: [2, 9, 9, 5], size: 3, stride: 2, pad: 'same' },
    { x: [1, 6, 7, 2], size: 3, stride: 1, pad: 'same' },
    { x: [3, 5, 5, 8], size: 2, stride: 1, pad: 'valid' },
  ]
  for (const p of POOLS) {
    it(`MaxPoolGrad matches the cpu backend, ties included: x ${p.x.join('x')}, ${p.size}/${p.stride} ${p.pad}`, async () => {
      // ReLU-like input: many exact zeros (ties) plus repeated values.
      const xs = randomValues(size(p.x), 5).map((v) => Math.max(0, Math.round(v * 4) / 4))
      const grad = async (backend: string) => {
        await tf.setBackend(backend)
        const x = tf.tensor4d(xs, p.x)
        const y = tf.maxPool(x, p.size, p.stride, p.pad)
        // Distinct dy values, so a gradient routed to the wrong pixel shows.
        const dy = tf.range(1, 1 + y.size).reshape(y.shape)
        const attrs = { filterSize: p.size, strides: p.stride, pad: p.pad }
        const dx = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs)
        const values = (dx as tf.Tensor).dataSync().slice()
        tf.dispose([x, y, dy, dx as tf.Tensor])
        return values
      }
      const expected = await grad('cpu')
      const actual = await grad('wasm')
      expect(Array.from(actual)).toEqual(Array.from(expected))
    })
  }

  const TILES: Array<{ shape: number[]; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }> = [
    { shape: [1, 1, 1, 5], reps: [3, 4, 6, 1], dtype: 'float32' },
    { shape: [2, 3], reps: [3, 2], dtype: 'int32' },
    { shape: [4], reps: [5], dtype: 'float32' },
    { shape: [2, 1, 3, 2], reps: [1, 3, 2, 2], dtype: 'bool' },
    { shape: [3, 2, 2], reps: [1, 1, 1], dtype: 'float32' },
    { shape: [2, 3], reps: [0, 2], dtype: 'float32' },
    { shape: [], reps: [], dtype: 'float32' },
  ]
  for (const t of TILES) {
    it(`Tile matches the cpu backend: ${t.dtype} [${t.shape}] x [${t.reps}]`, async () => {
      const values = Array.from(randomValues(size(t.shape), 9), (v) => Math.round(v * 50))
      const tileOn = async (backend: string) => {
        await tf.setBackend(backend)
        const x = tf.tensor(values, t.shape, t.dtype)
        const y = tf.engine().runKernel('Tile', { x }, { reps: t.reps }) as tf.Tensor
        const result = { shape: y.shape, values: Array.from(y.dataSync()) }
        tf.dispose([x, y])
        return result
      }
      const expected = await tileOn('cpu')
      expect(await tileOn('wasm')).toEqual(expected)
    })
  }

  it('splits a batch whose im2col would be too large into chunks', () => {
    // 64x64x128 input with a 3x3 'same' filter: 4.7 M column entries per sample, one per chunk.
    const c: Case = { x: [2, 64, 64, 128], filter: [3, 3], outChannels: 2, stride: 1, pad: 'same' }
    const filterShape: Shape4 = [3, 3, 128, 2]
    const xs = randomValues(size(c.x), 6)
    const ws = randomValues(size(filterShape), 7)
    const dyShape = outShape(c)
    const dys = randomValues(size(dyShape), 8)
    const [x, w, dy] = [
      tf.tensor4d(xs, c.x),
      tf.tensor4d(ws, filterShape),
      tf.tensor4d(dys, dyShape),
    ]
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' }
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape })
    const dx = tf
      .engine()
      .runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x })
    expect(
      relativeError((dw as tf.Tensor).dataSync(), referenceFilterGrad(c, xs, dys)),
    ).toBeLessThan(1e-5)
    expect(
      relativeError((dx as tf.Tensor).dataSync(), referenceInputGrad(c, ws, dys)),
    ).toBeLessThan(1e-5)
    tf.dispose([x, w, dy, dw as tf.Tensor, dx as tf.Tensor])
  })

  it('rejects dilations and NCHW with a clear error', () => {
    const x = tf.zeros([1, 5, 5, 1])
    const dy = tf.zeros([1, 3, 3, 1])
    const base = { strides: 1, pad: 'valid', filterShape: [3, 3, 1, 1] }
    const run = (attrs: Record<string, unknown>) => () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...base, ...attrs } as never)
    expect(run({ dilations: 2, dataFormat: 'NHWC' })).toThrow(/dilations 2 unsupported/)
    expect(run({ dataFormat: 'NCHW' })).toThrow(/dataFormat NCHW unsupported/)
    tf.dispose([x, dy])
  })

  it('gives the same conv2d gradients as the cpu backend', async () => {
    const xs = randomValues(3 * 10 * 10 * 4, 5)
    const ws = randomValues(3 * 3 * 4 * 6, 6)
    const gradsOn = async (backend: string) => {
      await tf.setBackend(backend)
      const x = tf.tensor4d(xs, [3, 10, 10, 4])
      const w = tf.tensor4d(ws, [3, 3, 4, 6])
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf
          .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')
          .square()
          .sum()
      const [dx, dw] = tf.grads(f)([x, w])
      const out = [dx.dataSync().slice(), dw.dataSync().slice()]
      tf.dispose([x, w, dx, dw])
      return out
    }
    const [cpuDx, cpuDw] = await gradsOn('cpu')
    const [wasmDx, wasmDw] = await gradsOn('wasm')
    expect(relativeError(wasmDw, cpuDw)).toBeLessThan(1e-5)
    expect(relativeError(wasmDx, cpuDx)).toBeLessThan(1e-5)
  })

  it('trains a small CNN (conv valid, conv same stride 2, pool, batch norm, dropout, dense)', async () => {
    await tf.setBackend('wasm')
    const classes = 4
    const count = 64
    // Class k: a bright 4x4 block in quadrant k, plus noise.
    const noise = randomValues(count * 16 * 16, 7)
    const pixels = new Float32Array(count * 16 * 16)
    const labels = new Float32Array(count)
    for (let i = 0; i < count; i++) {
      const k = i % classes
      labels[i] = k
      for (let p = 0; p < 256; p++) pixels[i * 256 + p] = 0.1 * noise[i * 256 + p]
      const top = k < 2 ? 2 : 10
      const left = k % 2 === 0 ? 2 : 10
      for (let r = 0; r < 4; r++)
        for (let col = 0; col < 4; col++) pixels[i * 256 + (top + r) * 16 + left + col] += 1
    }
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [16, 16, 1],
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.conv2d({
          filters: 8,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.dense({
          units: classes,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    })
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' })
    const x = tf.tensor4d(pixels, [count, 16, 16, 1])
    const y = tf.tensor1d(labels)
    const losses: number[] = []
    for (let step = 0; step < 20; step++) {
      losses.push((await model.trainOnBatch(x, y)) as number)
    }
    tf.dispose([x, y])
    model.dispose()
    expect(losses.every(Number.isFinite)).toBe(true)
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length
    expect(mean(losses.slice(-3))).toBeLessThan(0.5 * mean(losses.slice(0, 3)))
  })
})
