import type { BackendName } from '@shared/schemas/backend'
import type { ModelMetadata } from '@shared/schemas/model'
import type { StopReason, TrainConfig, TrainProgress } from '@shared/schemas/training'
import * as tf from '@tensorflow/tfjs'

import { augmentBatch } from '../data/augment'
import { createRng } from '../data/rng'
import { stratifiedSplit, takeStratified } from '../data/split'
import type { Dataset, Split } from '../data/types'
import { createModelMetadata } from '../io/metadata'
import { saveModel } from '../io/modelFiles'
import { buildModel } from '../model/build'
import { architectureOf } from '../model/config'
import { evalBatch } from './forward'
import { learningRateAt } from './schedule'
import { createTrainingStep, type StepKind, type StepRequest } from './step'

/** Side of the square model input. */
const SIZE = 28
/** Default minimum time between two batch progress events (the last batch of an epoch always reports). */
const PROGRESS_INTERVAL_MS = 250
/** Images per validation forward pass. */
const VALIDATION_BATCH = 512
/** A loss this many times the first-epoch loss counts as divergence. */
const DIVERGENCE_FACTOR = 1e4
/** An epoch counts as an improvement only when the monitored loss drops by more than this. */
const MIN_DELTA = 1e-4
/** Weight of the newest batch in the moving samples/s average. */
const SPEED_SMOOTHING = 0.1

/** One epoch-end progress event, as kept in the history. */
export type EpochProgress = Extract<TrainProgress, { kind: 'epoch' }>
/** One throttled batch progress event. */
export type BatchProgress = Extract<TrainProgress, { kind: 'batch' }>

/** Arguments of `trainModel`. */
export interface TrainOptions {
  dataset: Dataset
  /** A resolved config (see `resolveTrainConfig`). */
  config: TrainConfig
  /** Throttled batch events and one event per epoch, after validation. */
  onProgress?: (progress: TrainProgress) => void
  /** Aborting stops training after the current batch; the best weights are kept. */
  signal?: AbortSignal
  /** When set, the best model so far is saved here (through `saveModel`) at every improvement. */
  checkpointDir?: string
  /** Diagnostic lines (epoch summaries, checkpoint failures). */
  log?: (message: string) => void
  /** Minimum milliseconds between batch events (default 250). */
  progressIntervalMs?: number
  /**
   * Awaited between batches; training goes on when it resolves. This is how a caller pauses a run
   * (abort still works while paused once the gate resolves or rejects).
   */
  pauseGate?: () => Promise<void>
  /** Metadata fields for the checkpoint (name, version) that the engine cannot know. */
  metadata?: { name?: string; inklabVersion?: string }
  /** How each step runs (default `auto`: one TensorFlow graph on native, else eager; see step.ts). */
  step?: StepRequest
}

/** Outcome of `trainModel`. The caller owns `model` and must dispose it. */
export interface TrainResult {
  /** The model with the best weights seen (restored at the end), or the last ones if no epoch ended. */
  model: tf.LayersModel
  stopReason: StopReason
  /** Human-readable explanation when the run did not simply complete. */
  message?: string
  history: EpochProgress[]
  /** 0-based epoch whose weights the model holds; -1 when no epoch completed. */
  bestEpoch: number
  best: { valLoss?: number; valAccuracy?: number; loss?: number; accuracy?: number }
  /** Wall time of the whole run, validation included. */
  seconds: number
  /** Training samples per second over the run (time spent in training batches only). */
  samplesPerSecond: number
  backend: BackendName
  /** How the training steps ran. */
  step: StepKind
  /** Sizes of the splits actually used. */
  trainCount: number
  validationCount: number
}

/** The InkLab name of the active tfjs backend. */
export function activeBackendName(): BackendName {
  const id = tf.getBackend()
  if (id === 'tensorflow') return 'native'
  if (id === 'wasm') return 'wasm'
  return 'cpu'
}

/** Lets pending I/O (an abort message, a progress flush) run between batches. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  return Math.abs(value) >= 1e4 || Math.abs(value) < 1e-3
    ? value.toExponential(2)
    : String(+value.toPrecision(4))
}

/** Inputs and labels of samples `indices` of `split` as tensors. */
function batchTensors(
  split: Split,
  indices: Uint32Array,
  images: Float32Array,
): { xs: tf.Tensor4D; ys: tf.Tensor1D } {
  const labels = new Int32Array(indices.length)
  for (let i = 0; i < indices.length; i++) labels[i] = split.labels[indices[i]]
  return {
    xs: tf.tensor4d(images, [indices.length, SIZE, SIZE, 1]),
    ys: tf.tensor1d(labels, 'int32'),
  }
}

/** Mean loss and accuracy of the model on a split, in inference mode; null if aborted meanwhile. */
async function validate(
  model: tf.LayersModel,
  split: Split,
  signal: AbortSignal | undefined,
): Promise<{ loss: number; accuracy: number } | null> {
  let lossSum = 0
  let correct = 0
  const noAugmentation = { enabled: false, rotation: 0, zoom: 0, shift: 0 }
  const rng = createRng(0)
  for (let start = 0; start < split.count; start += VALIDATION_BATCH) {
    if (signal?.aborted) return null
    const n = Math.min(VALIDATION_BATCH, split.count - start)
    const indices = new Uint32Array(n)
    for (let i = 0; i < n; i++) indices[i] = start + i
    const { xs, ys } = batchTensors(
      split,
      indices,
      augmentBatch(split.images, indices, noAugmentation, rng),
    )
    try {
      const stats = evalBatch(model, xs, ys)
      lossSum += stats.loss * n
      correct += stats.correct
    } finally {
      xs.dispose()
      ys.dispose()
    }
    await yieldToEventLoop()
  }
  return { loss: lossSum / split.count, accuracy: correct / split.count }
}

/** Splits the dataset's training data per the config: `limit`, then the validation fraction. */
function prepareSplits(
  dataset: Dataset,
  config: TrainConfig,
): { train: Split; validation?: Split } {
  let train = dataset.train
  if (config.limit > 0 && config.limit < train.count) {
    train = takeStratified(train, config.limit, config.seed)
  }
  if (config.validationSplit > 0 && Math.floor(train.count * config.validationSplit) >= 1) {
    const { train: rest, validation } = stratifiedSplit(train, config.validationSplit, config.seed)
    if (validation.count > 0 && rest.count > 0) return { train: rest, validation }
  }
  return { train }
}

/**
 * Trains a model for `config` on `dataset` with a custom loop (seeded shuffle, on-the-fly
 * augmentation, Adam with a learning-rate schedule, stable cross-entropy), so that cancel is
 * prompt and divergence is caught at the batch where it happens. Keeps the best weights (by
 * validation loss, or training loss without a validation split) and restores them at the end.
 * Call `initBackend` first; the active tfjs backend is used as is.
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { dataset, config, onProgress, signal, checkpointDir, log } = options
  const progressInterval = options.progressIntervalMs ?? PROGRESS_INTERVAL_MS
  const runStart = performance.now()
  const numClasses = dataset.labels.length
  const { train, validation } = prepareSplits(dataset, config)
  if (train.count === 0) throw new Error('the training split is empty')
  const architecture = architectureOf(config)
  const backend = activeBackendName()

  const model = buildModel(architecture, numClasses, config.seed)
  const shuffleRng = createRng(config.seed)
  const augmentRng = createRng((config.seed ^ 0x5bd1e995) >>> 0)
  const dropoutRng = createRng((config.seed ^ 0x27d4eb2f) >>> 0)
  const nextDropoutSeed = (): number => dropoutRng.int(2 ** 31)
  const trainingStep = createTrainingStep(model, {
    request: options.step,
    nextSeed: nextDropoutSeed,
  })
  if (trainingStep.fallbackReason) log?.(`training op by op: ${trainingStep.fallbackReason}`)

  const batchSize = Math.min(config.batchSize, train.count)
  const batchesPerEpoch = Math.ceil(train.count / batchSize)
  const totalSteps = batchesPerEpoch * config.epochs
  const order = new Uint32Array(train.count)
  for (let i = 0; i < order.length; i++) order[i] = i

  const history: EpochProgress[] = []
  // A holder rather than a `let`: TypeScript does not track assignments made inside closures.
  const bestWeights: { tensors: tf.Tensor[] | null } = { tensors: null }
  let bestEpoch = -1
  let best: TrainResult['best'] = {}
  let bestMonitored = Infinity
  let epochsWithoutImprovement = 0
  let referenceLoss: number | null = null
  let stopReason: StopReason = 'completed'
  let message: string | undefined
  let step = 0
  let trainSeconds = 0
  let trainSamples = 0
  let speed = 0
  let lastEmit = -Infinity
  let learningRate = config.learningRate
  /** Seconds spent paused at the gate, so far in the run and in the current epoch. */
  let pausedSeconds = 0
  let epochPausedSeconds = 0

  const elapsed = (): number => (performance.now() - runStart) / 1000
  const waitAtGate = async (): Promise<void> => {
    if (!options.pauseGate) return
    const started = performance.now()
    await options.pauseGate()
    const waited = (performance.now() - started) / 1000
    pausedSeconds += waited
    epochPausedSeconds += waited
  }
  const keepBest = (): void => {
    if (bestWeights.tensors) tf.dispose(bestWeights.tensors)
    // Clones share the current buffers; later updates assign new ones, so these stay intact.
    bestWeights.tensors = model.getWeights().map((w) => tf.clone(w))
  }

  try {
    epochs: for (let epoch = 0; epoch < config.epochs; epoch++) {
      shuffleRng.shuffle(order)
      let epochLoss = 0
      let epochCorrect = 0
      let epochSeen = 0
      let epochTrainSeconds = 0
      epochPausedSeconds = 0
      const epochStart = performance.now()
      for (let batch = 0; batch < batchesPerEpoch; batch++) {
        if (signal?.aborted) {
          stopReason = 'cancelled'
          break epochs
        }
        const batchStart = performance.now()
        const indices = order.subarray(
          batch * batchSize,
          Math.min(train.count, (batch + 1) * batchSize),
        )
        const n = indices.length
        const images = augmentBatch(train.images, indices, config.augmentation, augmentRng)
        learningRate = learningRateAt(config.lrSchedule, config.learningRate, step, totalSteps)
        const { xs, ys } = batchTensors(train, indices, images)
        let stats
        try {
          stats = trainingStep.run(xs, ys, learningRate)
        } finally {
          xs.dispose()
          ys.dispose()
        }
        step += 1
        referenceLoss ??= stats.loss
        if (!Number.isFinite(stats.loss) || stats.loss > DIVERGENCE_FACTOR * referenceLoss) {
          const what = Number.isFinite(stats.loss)
            ? `loss is ${formatNumber(stats.loss)}, over ${DIVERGENCE_FACTOR}x the first-epoch loss (${formatNumber(referenceLoss)})`
            : `loss is ${stats.loss}`
          stopReason = 'diverged'
          message =
            `training diverged at epoch ${epoch + 1} batch ${batch + 1}: ${what}; ` +
            `try a lower learning rate (now ${formatNumber(config.learningRate)})`
          break epochs
        }
        const seconds = (performance.now() - batchStart) / 1000
        epochTrainSeconds += seconds
        trainSeconds += seconds
        trainSamples += n
        epochLoss += stats.loss * n
        epochCorrect += stats.correct
        epochSeen += n
        const rate = n / Math.max(seconds, 1e-6)
        speed = speed === 0 ? rate : speed + SPEED_SMOOTHING * (rate - speed)

        const now = performance.now()
        const lastOfEpoch = batch === batchesPerEpoch - 1
        if (onProgress && (lastOfEpoch || now - lastEmit >= progressInterval)) {
          lastEmit = now
          const remaining = (totalSteps - step) * batchSize
          onProgress({
            kind: 'batch',
            epoch,
            batch,
            batchesPerEpoch,
            step,
            loss: epochLoss / epochSeen,
            accuracy: epochCorrect / epochSeen,
            samplesPerSecond: speed,
            etaSeconds: speed > 0 ? Math.max(0, remaining / speed) : 0,
            elapsedSeconds: elapsed(),
          })
        }
        await yieldToEventLoop()
        await waitAtGate()
      }
      if (epoch === 0 && epochSeen > 0) referenceLoss = epochLoss / epochSeen

      const scores = validation ? await validate(model, validation, signal) : undefined
      if (scores === null) {
        stopReason = 'cancelled'
        break
      }
      const loss = epochLoss / epochSeen
      const accuracy = epochCorrect / epochSeen
      const monitored = scores ? scores.loss : loss
      const improved = Number.isFinite(monitored) && monitored < bestMonitored - MIN_DELTA
      if (improved) {
        bestMonitored = monitored
        bestEpoch = epoch
        best = scores
          ? { valLoss: scores.loss, valAccuracy: scores.accuracy, loss, accuracy }
          : { loss, accuracy }
        keepBest()
        epochsWithoutImprovement = 0
      } else {
        epochsWithoutImprovement += 1
      }
      // Time paused is not time training: it must not inflate the ETA.
      const epochSeconds = (performance.now() - epochStart) / 1000 - epochPausedSeconds
      const event: EpochProgress = {
        kind: 'epoch',
        epoch,
        epochs: config.epochs,
        step,
        loss,
        accuracy,
        ...(scores ? { valLoss: scores.loss, valAccuracy: scores.accuracy } : {}),
        learningRate,
        samplesPerSecond: epochSeen / Math.max(epochTrainSeconds, 1e-6),
        etaSeconds: epochSeconds * (config.epochs - epoch - 1),
        elapsedSeconds: elapsed(),
        improved,
      }
      history.push(event)
      log?.(
        `epoch ${epoch + 1}/${config.epochs}: loss ${loss.toFixed(4)} acc ${accuracy.toFixed(4)}` +
          (scores
            ? ` val loss ${scores.loss.toFixed(4)} val acc ${scores.accuracy.toFixed(4)}`
            : '') +
          ` lr ${formatNumber(learningRate)} ${epochSeconds.toFixed(1)}s${improved ? ' *' : ''}`,
      )
      onProgress?.(event)
      if (improved && checkpointDir) {
        await saveCheckpoint(checkpointDir, model, {
          dataset,
          config,
          backend,
          metrics: {
            ...(scores ? { valLoss: scores.loss, valAccuracy: scores.accuracy } : {}),
            epochs: epoch + 1,
            seconds: elapsed(),
            samplesPerSecond: trainSamples / Math.max(trainSeconds, 1e-6),
          },
          ...options.metadata,
        }).catch((error: unknown) => {
          log?.(`could not save the checkpoint to ${checkpointDir}: ${String(error)}`)
        })
      }
      if (
        config.earlyStoppingPatience > 0 &&
        epochsWithoutImprovement >= config.earlyStoppingPatience &&
        epoch < config.epochs - 1
      ) {
        stopReason = 'early-stopped'
        message =
          `stopped early after epoch ${epoch + 1}: ${scores ? 'validation' : 'training'} loss ` +
          `has not improved for ${epochsWithoutImprovement} epochs (best at epoch ${bestEpoch + 1})`
        break
      }
    }
  } catch (error) {
    stopReason = 'failed'
    message = `training failed: ${error instanceof Error ? error.message : String(error)}`
  } finally {
    trainingStep.dispose()
  }

  if (stopReason === 'cancelled') {
    message =
      bestEpoch >= 0
        ? `cancelled; keeping the best model (epoch ${bestEpoch + 1})`
        : 'cancelled before the first epoch ended; the model has the weights reached so far'
  }
  if (bestWeights.tensors) {
    model.setWeights(bestWeights.tensors)
    tf.dispose(bestWeights.tensors)
    bestWeights.tensors = null
  }
  return {
    model,
    stopReason,
    ...(message !== undefined ? { message } : {}),
    history,
    bestEpoch,
    best,
    seconds: elapsed() - pausedSeconds,
    samplesPerSecond: trainSamples / Math.max(trainSeconds, 1e-6),
    backend,
    step: trainingStep.kind,
    trainCount: train.count,
    validationCount: validation?.count ?? 0,
  }
}

async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  input: Parameters<typeof createModelMetadata>[0],
): Promise<ModelMetadata> {
  const metadata = createModelMetadata(input)
  await saveModel(dir, model, metadata)
  return metadata
}
