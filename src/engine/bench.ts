import * as tf from '@tensorflow/tfjs'
import type { BackendName } from '@shared/schemas/backend'
import type { BuiltinPresetName } from '@shared/presets'
import { initBackend, loadNativeBinding, type NativeLoadResult } from './backend'
import { loadBuiltinMnist } from './data/mnistBuiltin'
import { evaluateModel } from './eval/evaluate'
import { predictBatch } from './native/predictor'
import { buildModel, INPUT_SIZE, PRESETS, resolveTrainConfig } from './model'
import { createTrainingStep, type StepKind } from './train/step'
import { trainModel } from './train/trainer'

/** Options of `runBenchmark`; every budget has a default suited to a real run. */
export interface BenchOptions {
  /** Backends to measure. Default: native (reported unavailable when it does not load) and wasm. */
  backends?: BackendName[]
  /** Receives one human-readable line per finding, as soon as it is known. */
  onLine?: (line: string) => void
  /** Timed seconds for each throughput measurement (training per preset, batch inference). Default 5. */
  seconds?: number
  /** Untimed training steps before the timed ones. Default 3. */
  warmupSteps?: number
  /** Batch-1 predictions timed for the latency figures. Default 200. */
  latencyCalls?: number
  /**
   * The end-to-end run: the fast preset trained on MNIST as `inklab train` does, then its test
   * accuracy. `false` skips it; `limit` trains on that many images (default: all 60,000).
   */
  accuracy?: false | { limit?: number }
}

/** Throughput of one timed loop. */
export interface Throughput {
  batchSize: number
  batches: number
  seconds: number
  samplesPerSec: number
}

/** Training throughput of one preset's network, with how its steps ran. */
export interface TrainThroughput extends Throughput {
  step: StepKind
}

/** The fast preset trained on MNIST: wall time, and whether it reached 99.0% test accuracy. */
export interface AccuracyRun {
  preset: 'fast'
  trainImages: number
  epochs: number
  /** Training wall time, validation included (what a user waits for). */
  seconds: number
  testAccuracy: number
  /** Whether the test accuracy is at least `TARGET_ACCURACY`. */
  reached: boolean
}

/** Figures for one backend; the measurements are absent when it is not available. */
export interface BackendBench {
  backend: BackendName
  available: boolean
  reason?: string
  detail?: string
  /** Training samples/s of the classic (Keras mnist_convnet) and fast networks, batch 128. */
  train?: Partial<Record<BenchPreset, TrainThroughput>>
  /** Inference of the classic network at batch 256. */
  inference?: Throughput
  /** Batch-1 inference latency of the classic network. */
  latency?: { calls: number; medianMs: number; p95Ms: number }
  accuracy?: AccuracyRun
}

/** What `runBenchmark` measured, in the order of the requested backends. */
export interface BenchResult {
  /** The networks whose training is timed; inference and latency are the classic network's. */
  presets: BenchPreset[]
  inputShape: [number, number, number]
  results: BackendBench[]
}

type BenchPreset = Extract<BuiltinPresetName, 'classic' | 'fast'>

const DEFAULT_BACKENDS: BackendName[] = ['native', 'wasm']
const BENCH_PRESETS: BenchPreset[] = ['classic', 'fast']
const TRAIN_BATCH = 128
const INFER_BATCH = 256
const NUM_CLASSES = 10
const LATENCY_WARMUP_CALLS = 10
/** The test accuracy the fast preset is designed to reach. */
export const TARGET_ACCURACY = 0.99

/**
 * Measures, on each requested backend: training throughput of the classic (Keras mnist_convnet) and
 * fast networks with InkLab's own training step (Adam, batch 128, synthetic 28x28 input; on native
 * the step runs as one TensorFlow graph), inference throughput of the classic network at batch 256
 * and its batch-1 latency (median and p95), and, unless `accuracy` is false, the wall time of the
 * fast preset trained on MNIST with its test accuracy. `cpu` is measured only when listed. The
 * backend active before the call is active again afterwards.
 */
export async function runBenchmark(options: BenchOptions = {}): Promise<BenchResult> {
  const backends = options.backends ?? DEFAULT_BACKENDS
  const say = options.onLine ?? (() => undefined)
  const previous = tf.engine().backendName as string | null
  const results: BackendBench[] = []
  try {
    for (const name of backends) {
      const result = await benchBackend(name, options, say)
      results.push(result)
    }
  } finally {
    if (previous != null && tf.engine().backendName !== previous) await tf.setBackend(previous)
  }
  return { presets: BENCH_PRESETS, inputShape: [INPUT_SIZE, INPUT_SIZE, 1], results }
}

async function benchBackend(
  name: BackendName,
  options: BenchOptions,
  say: (line: string) => void,
): Promise<BackendBench> {
  const native: NativeLoadResult = name === 'native' ? loadNativeBinding() : { ok: true }
  const report = (r: BackendBench): BackendBench => {
    for (const line of describeBench(r)) say(line)
    return r
  }
  if (!native.ok) return report({ backend: name, available: false, reason: native.reason })
  let detail: string
  try {
    detail = (await initBackend(name)).detail
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return report({ backend: name, available: false, reason })
  }
  say(`${name} (${detail})`)
  const seconds = options.seconds ?? 5
  const result: BackendBench = { backend: name, available: true, detail, train: {} }
  for (const preset of BENCH_PRESETS) {
    const model = buildModel(PRESETS[preset].architecture, NUM_CLASSES, 1)
    try {
      result.train![preset] = measureTraining(model, seconds, options.warmupSteps ?? 3)
      say(describeTraining(preset, result.train![preset]!))
    } finally {
      model.dispose()
    }
  }
  const model = buildModel(PRESETS.classic.architecture, NUM_CLASSES, 1)
  try {
    result.inference = measureInference(model, seconds)
    result.latency = measureLatency(model, options.latencyCalls ?? 200)
    for (const line of describeInference(result)) say(line)
  } finally {
    model.dispose()
  }
  if (options.accuracy !== false) {
    say(`  accuracy:  training the fast preset on MNIST...`)
    result.accuracy = await measureAccuracy(options.accuracy?.limit)
    say(describeAccuracy(result.accuracy))
  }
  return result
}

/** Random pixels in [0, 1) and random labels: the cost of a step does not depend on the data. */
function syntheticBatch(size: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => ({
    x: tf.randomUniform([size, INPUT_SIZE, INPUT_SIZE, 1], 0, 1, 'float32', 1) as tf.Tensor4D,
    y: tf.randomUniform([size], 0, NUM_CLASSES, 'int32', 2) as tf.Tensor1D,
  }))
}

function measureTraining(
  model: tf.LayersModel,
  seconds: number,
  warmupSteps: number,
): TrainThroughput {
  const step = createTrainingStep(model, { nextSeed: () => 1 })
  const { x, y } = syntheticBatch(TRAIN_BATCH)
  try {
    // Each step reads its loss back, so it has finished when it returns.
    for (let i = 0; i < warmupSteps; i++) step.run(x, y, 1e-3)
    return { ...timeLoop(TRAIN_BATCH, seconds, () => step.run(x, y, 1e-3)), step: step.kind }
  } finally {
    step.dispose()
    tf.dispose([x, y])
  }
}

function measureInference(model: tf.LayersModel, seconds: number): Throughput {
  const { x, y } = syntheticBatch(INFER_BATCH)
  y.dispose()
  const predict = (): void => {
    const out = predictBatch(model, x)
    out.dataSync()
    out.dispose()
  }
  try {
    predict()
    return timeLoop(INFER_BATCH, seconds, predict)
  } finally {
    x.dispose()
  }
}

function measureLatency(model: tf.LayersModel, calls: number): BackendBench['latency'] {
  const { x, y } = syntheticBatch(1)
  y.dispose()
  const times: number[] = []
  try {
    for (let i = 0; i < LATENCY_WARMUP_CALLS + calls; i++) {
      const start = performance.now()
      const out = predictBatch(model, x)
      out.dataSync()
      out.dispose()
      if (i >= LATENCY_WARMUP_CALLS) times.push(performance.now() - start)
    }
  } finally {
    x.dispose()
  }
  times.sort((a, b) => a - b)
  return { calls, medianMs: percentile(times, 0.5), p95Ms: percentile(times, 0.95) }
}

async function measureAccuracy(limit: number | undefined): Promise<AccuracyRun> {
  const mnist = await loadBuiltinMnist()
  const config = resolveTrainConfig({ preset: 'fast', ...(limit ? { limit } : {}) })
  const result = await trainModel({ dataset: mnist, config })
  try {
    const testAccuracy = evaluateModel(result.model, mnist.test!, mnist.labels).accuracy
    return {
      preset: 'fast',
      trainImages: result.trainCount,
      epochs: result.history.length,
      seconds: result.seconds,
      testAccuracy,
      reached: testAccuracy >= TARGET_ACCURACY,
    }
  } finally {
    result.model.dispose()
  }
}

/** Runs `step` until `seconds` have passed (at least once) and reports samples per second. */
function timeLoop(batchSize: number, seconds: number, step: () => unknown): Throughput {
  const start = performance.now()
  let batches = 0
  let elapsed = 0
  do {
    step()
    batches++
    elapsed = (performance.now() - start) / 1000
  } while (elapsed < seconds)
  return { batchSize, batches, seconds: elapsed, samplesPerSec: (batches * batchSize) / elapsed }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}

function describeTraining(preset: BenchPreset, t: TrainThroughput): string {
  const run = `batch ${t.batchSize}, ${t.step} step, ${t.batches} steps in ${t.seconds.toFixed(1)} s`
  return `  training ${preset.padEnd(7)} ${t.samplesPerSec.toFixed(0)} samples/s (${run})`
}

function describeInference(r: BackendBench): string[] {
  const lines: string[] = []
  if (r.inference) {
    const rate = r.inference.samplesPerSec.toFixed(0)
    lines.push(`  inference:       ${rate} samples/s (classic, batch ${r.inference.batchSize})`)
  }
  if (r.latency) {
    const [median, p95] = [r.latency.medianMs.toFixed(2), r.latency.p95Ms.toFixed(2)]
    lines.push(
      `  latency:         ${median} ms median, ${p95} ms p95 (classic, batch 1, ${r.latency.calls} calls)`,
    )
  }
  return lines
}

function describeAccuracy(a: AccuracyRun): string {
  const accuracy = `${(a.testAccuracy * 100).toFixed(2)}% test accuracy`
  const goal = a.reached
    ? `reached ${TARGET_ACCURACY * 100}%`
    : `short of ${TARGET_ACCURACY * 100}%`
  return `  accuracy:        fast preset, ${a.trainImages} images, ${a.epochs} epochs: ${accuracy} in ${a.seconds.toFixed(1)} s (${goal})`
}

/** Human-readable lines for one backend's figures. */
export function describeBench(r: BackendBench): string[] {
  if (!r.available) return [`${r.backend}: unavailable — ${r.reason ?? 'unknown reason'}`]
  const lines = [`${r.backend} (${r.detail ?? ''})`]
  for (const preset of BENCH_PRESETS) {
    const t = r.train?.[preset]
    if (t) lines.push(describeTraining(preset, t))
  }
  lines.push(...describeInference(r))
  if (r.accuracy) lines.push(describeAccuracy(r.accuracy))
  return lines
}
