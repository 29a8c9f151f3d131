import * as tf from '@tensorflow/tfjs'
import type { BackendName } from '@shared/schemas/backend'
import { initBackend, loadNativeBinding, type NativeLoadResult } from './backend'
import { buildModel, INPUT_SIZE, PRESETS } from './model'

/** Options of `runBenchmark`; every budget has a default suited to a real run. */
export interface BenchOptions {
  /** Backends to measure. Default: native (reported unavailable when it does not load) and wasm. */
  backends?: BackendName[]
  /** Receives one human-readable line per finding, as soon as it is known. */
  onLine?: (line: string) => void
  /** Timed seconds for each throughput measurement (training, batch inference). Default 5. */
  seconds?: number
  /** Untimed training steps before the timed ones. Default 3. */
  warmupSteps?: number
  /** Batch-1 predictions timed for the latency figures. Default 200. */
  latencyCalls?: number
}

/** Throughput of one timed loop. */
export interface Throughput {
  batchSize: number
  batches: number
  seconds: number
  samplesPerSec: number
}

/** Figures for one backend; the measurements are absent when it is not available. */
export interface BackendBench {
  backend: BackendName
  available: boolean
  reason?: string
  detail?: string
  train?: Throughput
  inference?: Throughput
  latency?: { calls: number; medianMs: number; p95Ms: number }
}

/** What `runBenchmark` measured, in the order of the requested backends. */
export interface BenchResult {
  /** The model measured: the `classic` preset (Keras mnist_convnet), 10 classes. */
  model: 'classic'
  inputShape: [number, number, number]
  results: BackendBench[]
}

const DEFAULT_BACKENDS: BackendName[] = ['native', 'wasm']
const TRAIN_BATCH = 128
const INFER_BATCH = 256
const NUM_CLASSES = 10
const LATENCY_WARMUP_CALLS = 10

/**
 * Measures, on each requested backend, training throughput of the classic MNIST convnet (Adam,
 * sparse categorical cross-entropy, batch 128, synthetic 28x28 input), inference throughput at
 * batch 256 and batch-1 latency (median and p95). `cpu` is measured only when listed. The backend
 * active before the call is active again afterwards.
 */
export async function runBenchmark(options: BenchOptions = {}): Promise<BenchResult> {
  const backends = options.backends ?? DEFAULT_BACKENDS
  const say = options.onLine ?? (() => undefined)
  const previous = tf.engine().backendName as string | null
  const results: BackendBench[] = []
  try {
    for (const name of backends) {
      const result = await benchBackend(name, options)
      results.push(result)
      for (const line of describeBench(result)) say(line)
    }
  } finally {
    if (previous != null && tf.engine().backendName !== previous) await tf.setBackend(previous)
  }
  return { model: 'classic', inputShape: [INPUT_SIZE, INPUT_SIZE, 1], results }
}

async function benchBackend(name: BackendName, options: BenchOptions): Promise<BackendBench> {
  const native: NativeLoadResult = name === 'native' ? loadNativeBinding() : { ok: true }
  if (!native.ok) return { backend: name, available: false, reason: native.reason }
  let detail: string
  try {
    detail = (await initBackend(name)).detail
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return { backend: name, available: false, reason }
  }
  const seconds = options.seconds ?? 5
  const model = buildModel(PRESETS.classic.architecture, NUM_CLASSES, 1)
  try {
    const train = await measureTraining(model, seconds, options.warmupSteps ?? 3)
    const inference = await measureInference(model, seconds)
    const latency = measureLatency(model, options.latencyCalls ?? 200)
    return { backend: name, available: true, detail, train, inference, latency }
  } finally {
    model.dispose()
  }
}

/** Random pixels in [0, 1) and random labels: the cost of a step does not depend on the data. */
function syntheticBatch(size: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => ({
    x: tf.randomUniform([size, INPUT_SIZE, INPUT_SIZE, 1], 0, 1, 'float32', 1) as tf.Tensor4D,
    y: tf.randomUniform([size], 0, NUM_CLASSES, 'int32', 2).cast('float32') as tf.Tensor1D,
  }))
}

async function measureTraining(
  model: tf.LayersModel,
  seconds: number,
  warmupSteps: number,
): Promise<Throughput> {
  // Adam with the string id so that model.dispose() also frees the optimizer's moments.
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' })
  const { x, y } = syntheticBatch(TRAIN_BATCH)
  try {
    // trainOnBatch reads the loss back, so each step has finished when it returns.
    for (let i = 0; i < warmupSteps; i++) await model.trainOnBatch(x, y)
    return await timeLoop(TRAIN_BATCH, seconds, () => model.trainOnBatch(x, y))
  } finally {
    tf.dispose([x, y])
  }
}

function measureInference(model: tf.LayersModel, seconds: number): Promise<Throughput> {
  const { x, y } = syntheticBatch(INFER_BATCH)
  y.dispose()
  const predict = (): void => {
    const out = model.predict(x) as tf.Tensor
    out.dataSync()
    out.dispose()
  }
  predict()
  return timeLoop(INFER_BATCH, seconds, predict).finally(() => x.dispose())
}

function measureLatency(model: tf.LayersModel, calls: number): BackendBench['latency'] {
  const { x, y } = syntheticBatch(1)
  y.dispose()
  const times: number[] = []
  try {
    for (let i = 0; i < LATENCY_WARMUP_CALLS + calls; i++) {
      const start = performance.now()
      const out = model.predict(x) as tf.Tensor
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

/** Runs `step` until `seconds` have passed (at least once) and reports samples per second. */
async function timeLoop(
  batchSize: number,
  seconds: number,
  step: () => unknown,
): Promise<Throughput> {
  const start = performance.now()
  let batches = 0
  let elapsed = 0
  do {
    await step()
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

/** Human-readable lines for one backend's figures. */
export function describeBench(r: BackendBench): string[] {
  if (!r.available) return [`${r.backend}: unavailable — ${r.reason ?? 'unknown reason'}`]
  const lines = [`${r.backend} (${r.detail ?? ''})`]
  const { train, inference, latency } = r
  if (train) {
    const run = `batch ${train.batchSize}, ${train.batches} steps in ${train.seconds.toFixed(1)} s`
    lines.push(`  training:  ${train.samplesPerSec.toFixed(0)} samples/s (${run})`)
  }
  if (inference) {
    const rate = inference.samplesPerSec.toFixed(0)
    lines.push(`  inference: ${rate} samples/s (batch ${inference.batchSize})`)
  }
  if (latency) {
    const [median, p95] = [latency.medianMs.toFixed(2), latency.p95Ms.toFixed(2)]
    lines.push(`  latency:   ${median} ms median, ${p95} ms p95 (batch 1, ${latency.calls} calls)`)
  }
  return lines
}
