import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

import { TEST_BACKEND, useTestBackend } from '../../helpers/backend'
import { loadBuiltinMnist } from '@engine/data/mnistBuiltin'
import { takeStratified } from '@engine/data/split'
import type { Dataset } from '@engine/data/types'
import { evaluateModel } from '@engine/eval/evaluate'
import { predictPixels } from '@engine/io/predict'
import { resolveTrainConfig, type TrainConfigOverrides } from '@engine/model/config'
import { trainingSplits } from '@engine/train/splits'
import { trainModel, type TrainResult } from '@engine/train/trainer'
import type { TrainProgress } from '@shared/schemas/training'

/** A small conv net with batch norm and dropout: a few ms per batch on wasm. */
const SMALL = {
  layers: [
    { type: 'conv2d' as const, filters: 8, kernelSize: 5, strides: 2, padding: 'same' as const },
    { type: 'batchNorm' as const },
    { type: 'flatten' as const },
    { type: 'dropout' as const, rate: 0.2 },
  ],
}

let mnist: Dataset
const results: TrainResult[] = []

/** MNIST with `n` stratified training samples. */
function subset(n: number): Dataset {
  return { ...mnist, train: takeStratified(mnist.train, n, 1) }
}

function config(overrides: TrainConfigOverrides): ReturnType<typeof resolveTrainConfig> {
  return resolveTrainConfig({
    preset: 'custom',
    architecture: SMALL,
    epochs: 2,
    batchSize: 32,
    learningRate: 3e-3,
    validationSplit: 0.2,
    ...overrides,
  })
}

async function train(...args: Parameters<typeof trainModel>): Promise<TrainResult> {
  const result = await trainModel(...args)
  results.push(result)
  return result
}

beforeAll(async () => {
  await useTestBackend()
  mnist = await loadBuiltinMnist()
})

afterEach(() => {
  results.splice(0).forEach((r) => r.model.dispose())
})

describe('trainModel', () => {
  it('reports batches and epochs, keeps tensors flat across epochs, and is reproducible', async () => {
    const dataset = subset(640)
    const events: TrainProgress[] = []
    const tensorsAtEpoch: number[] = []
    const before = tf.memory().numTensors
    const run = (): Promise<TrainResult> =>
      train({
        dataset,
        config: config({ epochs: 3 }),
        progressIntervalMs: 0,
        onProgress: (p) => {
          events.push(p)
          if (p.kind === 'epoch') tensorsAtEpoch.push(tf.memory().numTensors)
        },
      })
    const result = await run()
    expect(result.stopReason).toBe('completed')
    expect(result.trainCount).toBe(512)
    expect(result.validationCount).toBe(128)
    const batches = events.filter((e) => e.kind === 'batch')
    expect(batches).toHaveLength(3 * 16)
    expect(batches.at(-1)).toMatchObject({ epoch: 2, batch: 15, batchesPerEpoch: 16, step: 48 })
    expect(result.history.map((h) => h.epoch)).toEqual([0, 1, 2])
    expect(result.history[0].valAccuracy).toBeGreaterThan(0.5)
    expect(result.history[0].improved).toBe(true)
    expect(result.best.valLoss).toBe(Math.min(...result.history.map((h) => h.valLoss ?? Infinity)))
    expect(result.samplesPerSecond).toBeGreaterThan(0)
    expect(result.backend).toBe(TEST_BACKEND)
    // The trainer's steps run as one graph on native and op by op on wasm.
    expect(result.step).toBe(TEST_BACKEND === 'native' ? 'graph' : 'eager')
    // Adam slots and the best-weights copy exist from the first epoch on; nothing may accumulate.
    expect(new Set(tensorsAtEpoch).size).toBe(1)
    expect(tf.memory().numTensors - before).toBe(result.model.getWeights().length)

    const again = await run()
    expect(again.history.map((h) => h.loss)).toEqual(result.history.map((h) => h.loss))
  })

  it('runs the step asked for; the graph where it cannot run fails before training and frees the model', async () => {
    const eager = await train({ dataset: subset(64), config: config({ epochs: 1 }), step: 'eager' })
    expect(eager.step).toBe('eager')
    if (TEST_BACKEND === 'native') {
      const graph = await train({
        dataset: subset(64),
        config: config({ epochs: 1 }),
        step: 'graph',
      })
      expect(graph.step).toBe('graph')
    } else {
      const before = tf.memory().numTensors
      await expect(
        trainModel({ dataset: subset(64), config: config({ epochs: 1 }), step: 'graph' }),
      ).rejects.toThrow(/needs the native backend \(active: wasm\)/)
      expect(tf.memory().numTensors).toBe(before)
    }
  })

  it('stops within a batch when cancelled and keeps the best epoch usable', async () => {
    const controller = new AbortController()
    const batchEvents: TrainProgress[] = []
    const result = await train({
      dataset: subset(640),
      config: config({ epochs: 5 }),
      progressIntervalMs: 0,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.kind !== 'batch' || p.epoch === 0) return
        batchEvents.push(p)
        if (batchEvents.length === 3) controller.abort()
      },
    })
    expect(result.stopReason).toBe('cancelled')
    expect(batchEvents).toHaveLength(3)
    expect(batchEvents.at(-1)).toMatchObject({ epoch: 1, batch: 2 })
    expect(result.history).toHaveLength(1)
    expect(result.bestEpoch).toBe(0)
    expect(result.message).toMatch(/cancelled; keeping the best model \(epoch 1\)/)
    const report = evaluateModel(result.model, takeStratified(mnist.test!, 500, 2), mnist.labels)
    expect(report.accuracy).toBeGreaterThan(0.5)
  })

  it('waits at the pause gate and can be cancelled while paused', async () => {
    const controller = new AbortController()
    let batches = 0
    let gateCalls = 0
    const result = await train({
      dataset: subset(640),
      config: config({ epochs: 2 }),
      progressIntervalMs: 0,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.kind === 'batch') batches += 1
      },
      pauseGate: () => {
        gateCalls += 1
        if (gateCalls !== 2) return Promise.resolve()
        // Paused after the second batch: nothing may run meanwhile; then cancel and let it go on.
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            expect(batches).toBe(2)
            controller.abort()
            resolve()
          }, 150),
        )
      },
    })
    expect(result.stopReason).toBe('cancelled')
    expect(batches).toBe(2)
  })

  it('leaves time spent paused out of the ETA and the training time', async () => {
    const PAUSE_SECONDS = 1.5
    let gateCalls = 0
    const epochs: TrainProgress[] = []
    const result = await train({
      dataset: subset(640),
      config: config({ epochs: 2, batchSize: 64, validationSplit: 0 }),
      onProgress: (p) => {
        if (p.kind === 'epoch') epochs.push(p)
      },
      pauseGate: () => {
        gateCalls += 1
        if (gateCalls !== 1) return Promise.resolve()
        return new Promise<void>((resolve) => setTimeout(resolve, PAUSE_SECONDS * 1000))
      },
    })
    expect(result.stopReason).toBe('completed')
    const first = epochs[0]
    if (first?.kind !== 'epoch') throw new Error('no epoch event')
    // One epoch of 640 small images takes well under a second here; the pause took 1.5 s.
    expect(first.etaSeconds).toBeLessThan(PAUSE_SECONDS)
    expect(first.elapsedSeconds).toBeGreaterThanOrEqual(PAUSE_SECONDS)
    expect(result.seconds).toBeLessThan(first.elapsedSeconds)
  })

  it('stops with "diverged" and a helpful message when the loss explodes', async () => {
    const result = await train({
      dataset: subset(640),
      config: config({
        // Linear layers and a huge learning rate: the logits blow up within a few batches.
        architecture: {
          layers: [
            { type: 'flatten' },
            { type: 'dense', units: 256, activation: 'linear' },
            { type: 'dense', units: 256, activation: 'linear' },
            { type: 'dense', units: 256, activation: 'linear' },
          ],
        },
        learningRate: 10,
        epochs: 3,
      }),
    })
    expect(result.stopReason).toBe('diverged')
    expect(result.message).toMatch(
      /^training diverged at epoch \d+ batch \d+: loss is (NaN|Infinity|[-\d.e+]+, over 10000x the first-epoch loss .*); try a lower learning rate \(now 10\)$/,
    )
  })

  it('stops early when the validation loss stops improving', async () => {
    const result = await train({
      dataset: subset(320),
      config: config({
        // No batch norm: with a negligible learning rate nothing changes the validation loss.
        architecture: { layers: [{ type: 'flatten' }] },
        learningRate: 1e-7,
        epochs: 6,
        earlyStoppingPatience: 2,
      }),
    })
    expect(result.stopReason).toBe('early-stopped')
    expect(result.history.map((h) => h.improved)).toEqual([true, false, false])
    expect(result.bestEpoch).toBe(0)
    expect(result.message).toMatch(
      /stopped early after epoch 3: validation loss has not improved for 2 epochs/,
    )
  })

  it('hands each improving epoch to onImproved, writing nothing itself', async () => {
    const improvements: { epoch: number; epochs: number; valLoss?: number; prediction: string }[] =
      []
    const probe = [mnist.test!.images.subarray(0, 784)]
    const result = await train({
      dataset: subset(640),
      config: config({ epochs: 2 }),
      onImproved: (model, { epoch, metrics }) => {
        improvements.push({
          epoch,
          epochs: metrics.epochs,
          valLoss: metrics.valLoss,
          prediction: JSON.stringify(predictPixels(model, probe, mnist.labels)),
        })
      },
    })
    const improved = result.history.filter((h) => h.improved).map((h) => h.epoch)
    expect(improvements.map((i) => i.epoch)).toEqual(improved)
    expect(improvements.map((i) => i.epochs)).toEqual(improved.map((e) => e + 1))
    // The last improvement is the best epoch: its weights are the ones the result holds.
    const last = improvements.at(-1)!
    expect(last.epoch).toBe(result.bestEpoch)
    expect(last.valLoss).toBeCloseTo(result.best.valLoss!, 6)
    expect(last.prediction).toBe(JSON.stringify(predictPixels(result.model, probe, mnist.labels)))
  })

  it('validates and keeps the weight average when asked, training as without it', async () => {
    const dataset = subset(640)
    const plain = await train({ dataset, config: config({ epochs: 2 }) })
    const cfg = config({ epochs: 2, emaDecay: 0.9 })
    const before = tf.memory().numTensors
    const averaged = await train({ dataset, config: cfg })
    // The steps are the same: only what is validated and kept differs.
    expect(averaged.history.map((h) => h.loss)).toEqual(plain.history.map((h) => h.loss))
    expect(averaged.history.map((h) => h.valLoss)).not.toEqual(plain.history.map((h) => h.valLoss))
    // The weights kept are the ones validated, and the average is freed.
    const validation = trainingSplits(dataset, cfg).validation!
    const kept = evaluateModel(averaged.model, validation, mnist.labels)
    expect(kept.loss).toBeCloseTo(averaged.best.valLoss!, 4)
    expect(tf.memory().numTensors - before).toBe(averaged.model.getWeights().length)
    // A run that keeps its last weights ends with the last average.
    const last = await train({ dataset, config: cfg, keep: 'last' })
    const lastReport = evaluateModel(last.model, validation, mnist.labels)
    expect(lastReport.loss).toBeCloseTo(last.history.at(-1)!.valLoss!, 4)
  })

  it('trains without a validation split, keeping the best by training loss', async () => {
    const result = await train({ dataset: subset(320), config: config({ validationSplit: 0 }) })
    expect(result.stopReason).toBe('completed')
    expect(result.validationCount).toBe(0)
    expect(result.history[0].valLoss).toBeUndefined()
    expect(result.best.loss).toBeDefined()
  })
})
