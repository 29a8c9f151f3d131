// The graph training step against the eager one, on native TensorFlow (vitest project `native`).
import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

import { loadBuiltinMnist } from '@engine/data/mnistBuiltin'
import { takeStratified } from '@engine/data/split'
import type { Dataset } from '@engine/data/types'
import { evaluateModel } from '@engine/eval/evaluate'
import { buildModel } from '@engine/model/build'
import { resolveTrainConfig } from '@engine/model/config'
import { PRESETS } from '@engine/model/presets'
import type { ArchitectureInput } from '@engine/model/validate'
import { combineModels } from '@engine/model/ensemble'
import { GraphPredictor, GraphTrainStep } from '@engine/native/graphStep'
import { predictBatch } from '@engine/native/predictor'
import { buildTrainGraph } from '@engine/native/trainGraph'
import { createTrainingStep, ADAM } from '@engine/train/step'
import { trainModel, type TrainResult } from '@engine/train/trainer'
import { useTestBackend } from '../../helpers/backend'

/** Every layer type and option the graph step handles, without dropout (whose masks differ). */
const EVERY_LAYER: ArchitectureInput = {
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same' },
    { type: 'batchNorm' },
    { type: 'conv2d', filters: 5, kernelSize: 3, strides: 1, padding: 'valid', activation: 'tanh' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' },
    { type: 'conv2d', filters: 6, kernelSize: 1, activation: 'linear' },
    { type: 'flatten' },
    { type: 'dense', units: 6, activation: 'tanh' },
    { type: 'batchNorm' },
    { type: 'dense', units: 5, activation: 'elu' },
    { type: 'dense', units: 5, activation: 'linear' },
  ],
}

const GLOBAL_POOL: ArchitectureInput = {
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3 },
    { type: 'maxPool2d', poolSize: 3 },
    { type: 'globalAveragePool' },
    { type: 'dense', units: 4 },
  ],
}

const models: tf.LayersModel[] = []
function build(arch: ArchitectureInput, classes = 3, seed = 11): tf.LayersModel {
  const model = buildModel(arch, classes, seed)
  models.push(model)
  return model
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync()
  const y = b.dataSync()
  let max = 0
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]))
  return max
}

function batch(n: number, classes: number, seed: number): { xs: tf.Tensor4D; ys: tf.Tensor1D } {
  return {
    xs: tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', seed) as tf.Tensor4D,
    ys: tf.tensor1d(
      Array.from({ length: n }, (_, i) => (i * 7 + seed) % classes),
      'int32',
    ),
  }
}

let mnist: Dataset
beforeAll(async () => {
  const info = await useTestBackend()
  expect(info.name).toBe('native')
  mnist = await loadBuiltinMnist()
})

afterEach(() => {
  models.splice(0).forEach((m) => m.dispose())
})

describe('GraphTrainStep', () => {
  it.each([
    ['every layer type', EVERY_LAYER],
    ['global average pooling', GLOBAL_POOL],
  ])('gives the eager step’s losses and weights over 6 steps (%s)', (_, arch) => {
    const eagerModel = build(arch)
    const graphModel = build(arch)
    const initial = graphModel.getWeights().map((w) => tf.clone(w))
    const eager = createTrainingStep(eagerModel, { request: 'eager', nextSeed: () => 1 })
    const graph = createTrainingStep(graphModel, { request: 'graph', nextSeed: () => 1 })
    expect(graph.kind).toBe('graph')
    for (let i = 0; i < 6; i++) {
      // Batches of different sizes: the graph takes any batch size.
      const { xs, ys } = batch(i % 2 === 0 ? 16 : 9, 3, i)
      const e = eager.run(xs, ys, 1e-2 * (1 + i / 6))
      const g = graph.run(xs, ys, 1e-2 * (1 + i / 6))
      expect(g.loss).toBeCloseTo(e.loss, 4)
      expect(g.correct).toBe(e.correct)
      tf.dispose([xs, ys])
    }
    const names = graphModel.weights.map((w) => w.originalName)
    graphModel.getWeights().forEach((w, i) => {
      // Every weight moved (batch-norm moving statistics included) and matches the eager one.
      expect(maxDifference(w, initial[i]), names[i]).toBeGreaterThan(1e-4)
      expect(maxDifference(w, eagerModel.getWeights()[i]), names[i]).toBeLessThan(2e-4)
    })
    tf.dispose(initial)
    eager.dispose()
    graph.dispose()
  })

  it('builds the graph for every preset', () => {
    for (const preset of Object.values(PRESETS)) {
      const graph = buildTrainGraph(build(preset.architecture, 10), ADAM)
      expect(graph.trainable.length).toBeGreaterThan(0)
      expect(graph.takesSeed).toBe(preset.architecture.layers.some((l) => l.type === 'dropout'))
    }
  })

  it('draws dropout masks from the fed seed: same seeds, same weights; other seeds, others', () => {
    const arch: ArchitectureInput = {
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3 },
        { type: 'dropout', rate: 0.5 },
        { type: 'flatten' },
        { type: 'dropout', rate: 0.3 },
      ],
    }
    const run = (seeds: number[]): tf.Tensor[] => {
      const model = build(arch)
      let i = 0
      const step = createTrainingStep(model, { request: 'graph', nextSeed: () => seeds[i++] })
      for (let s = 0; s < seeds.length; s++) {
        const { xs, ys } = batch(8, 3, s)
        step.run(xs, ys, 1e-2)
        tf.dispose([xs, ys])
      }
      step.dispose()
      return model.getWeights()
    }
    const a = run([1, 2, 3])
    const b = run([1, 2, 3])
    const c = run([4, 5, 6])
    a.forEach((w, i) => expect(maxDifference(w, b[i])).toBe(0))
    expect(Math.max(...a.map((w, i) => maxDifference(w, c[i])))).toBeGreaterThan(1e-4)
  })

  it('drops the rate asked for and scales what it keeps', () => {
    // A dense layer after dropout sees mask * x / (1 - rate): its kernel gradient is zero exactly
    // for dropped inputs, so the fraction of untouched kernel rows is the drop rate.
    const model = build({ layers: [{ type: 'flatten' }, { type: 'dropout', rate: 0.25 }] }, 2)
    const before = model.getWeights()[0].clone()
    const step = new GraphTrainStep(model, ADAM)
    const xs = tf.ones([1, 28, 28, 1]) as tf.Tensor4D
    const ys = tf.tensor1d([1], 'int32')
    step.run(xs, ys, 1e-2, 7)
    const moved = tf.tidy(
      () =>
        tf.any(tf.notEqual(model.getWeights()[0], before), 1).cast('float32').mean().dataSync()[0],
    )
    expect(moved).toBeGreaterThan(0.7)
    expect(moved).toBeLessThan(0.8)
    step.dispose()
    tf.dispose([xs, ys, before])
  })

  it('leaks no tensors across steps and frees its state on dispose', () => {
    const model = build(PRESETS.fast.architecture, 10)
    const step = createTrainingStep(model, { nextSeed: () => 3 })
    expect(step.kind).toBe('graph')
    const { xs, ys } = batch(32, 10, 1)
    step.run(xs, ys, 1e-3)
    const after1 = tf.memory().numTensors
    for (let i = 0; i < 5; i++) step.run(xs, ys, 1e-3)
    expect(tf.memory().numTensors).toBe(after1)
    step.dispose()
    expect(tf.memory().numTensors).toBeLessThan(after1)
    expect(() => step.run(xs, ys, 1e-3)).toThrow(/disposed/)
    tf.dispose([xs, ys])
  })
})

describe('GraphPredictor', () => {
  it('gives model.predict’s probabilities in inference mode, and follows weight changes', () => {
    const arch: ArchitectureInput = {
      layers: [...EVERY_LAYER.layers, { type: 'dropout', rate: 0.5 }],
    }
    const model = build(arch)
    // Move the batch-norm statistics away from their initial values first.
    const step = createTrainingStep(model, { request: 'graph', nextSeed: () => 1 })
    const { xs, ys } = batch(16, 3, 5)
    for (let i = 0; i < 3; i++) step.run(xs, ys, 1e-2)
    step.dispose()
    const predictor = new GraphPredictor(model)
    const expected = model.predict(xs) as tf.Tensor
    const actual = predictor.predict(xs)
    expect(actual.shape).toEqual([16, 3])
    expect(maxDifference(actual, expected)).toBeLessThan(1e-5)
    model.setWeights(model.getWeights().map((w) => tf.mul(w, 0.5)))
    const changed = predictor.predict(xs)
    const reference = model.predict(xs) as tf.Tensor
    expect(maxDifference(changed, reference)).toBeLessThan(1e-5)
    expect(maxDifference(changed, actual)).toBeGreaterThan(1e-3)
    tf.dispose([xs, ys, expected, actual, changed, reference])
    predictor.dispose()
    expect(() => predictor.predict(xs)).toThrow(/disposed/)
  })

  it('runs each network of an ensemble as a graph and gives their mean, as model.predict does', () => {
    const members = [1, 2].map((seed) => {
      const member = build(EVERY_LAYER, 3, seed)
      const step = createTrainingStep(member, { request: 'graph', nextSeed: () => seed })
      const { xs, ys } = batch(16, 3, seed)
      for (let i = 0; i < 3; i++) step.run(xs, ys, 1e-2)
      step.dispose()
      tf.dispose([xs, ys])
      return member
    })
    const ensemble = combineModels(members)
    models.push(ensemble)
    const { xs, ys } = batch(8, 3, 9)
    const predictor = new GraphPredictor(ensemble)
    const expected = ensemble.predict(xs) as tf.Tensor
    const actual = predictor.predict(xs)
    const first = members[0].predict(xs) as tf.Tensor
    expect(actual.shape).toEqual([8, 3])
    expect(maxDifference(actual, expected)).toBeLessThan(1e-5)
    expect(maxDifference(actual, first)).toBeGreaterThan(1e-3)
    tf.dispose([xs, ys, expected, actual, first])
    predictor.dispose()
  })

  it('predictBatch falls back to model.predict for a model the graph cannot express', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 3, activation: 'sigmoid' }),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    })
    models.push(model)
    const { xs, ys } = batch(2, 2, 1)
    const a = predictBatch(model, xs)
    const b = model.predict(xs) as tf.Tensor
    expect(maxDifference(a, b)).toBe(0)
    tf.dispose([a, b, xs, ys])
  })
})

describe('trainModel with the graph step', () => {
  const results: TrainResult[] = []
  afterEach(() => results.splice(0).forEach((r) => r.model.dispose()))

  it('reaches the accuracy of the eager step on MNIST (classic network, 3,000 images)', async () => {
    const dataset = { ...mnist, train: takeStratified(mnist.train, 3000, 2) }
    const test = takeStratified(mnist.test!, 2000, 3)
    const config = resolveTrainConfig({ preset: 'classic', epochs: 3, validationSplit: 0.1 })
    const accuracy: Record<string, number> = {}
    for (const step of ['graph', 'eager'] as const) {
      const result = await trainModel({ dataset, config, step })
      results.push(result)
      expect(result.step).toBe(step)
      expect(result.stopReason).toBe('completed')
      accuracy[step] = evaluateModel(result.model, test, mnist.labels).accuracy
    }
    expect(accuracy.graph, JSON.stringify(accuracy)).toBeGreaterThan(0.9)
    expect(Math.abs(accuracy.graph - accuracy.eager), JSON.stringify(accuracy)).toBeLessThan(0.015)
  })
})
