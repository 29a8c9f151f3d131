import { errorMessage } from '@shared/errors'
import type { BackendName } from '@shared/schemas/backend'
import type { ModelMetrics } from '@shared/schemas/model'
import type { StopReason, TrainConfig, TrainProgress } from '@shared/schemas/training'
import { epochLabel } from '@shared/trainConfig'
import * as tf from '@tensorflow/tfjs'

import { augmentBatch } from '../data/augment'
import { createRng, type Rng } from '../data/rng'
import type { Dataset, Split } from '../data/types'
import { buildModel } from '../model/build'
import { architectureOf } from '../model/config'
import { evalBatch } from './forward'
import { learningRateAt } from './schedule'
import { keysOf, trainingSplits } from './splits'
import { createTrainingStep, type StepKind, type StepRequest, type TrainingStep } from './step'
import { WeightAverage } from './weightAverage'

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
  /**
   * Awaited after each epoch that improved on the best so far, with the model holding that epoch's
   * weights: the caller's chance to keep a checkpoint. A throw fails the run.
   */
  onImproved?: (model: tf.LayersModel, improvement: Improvement) => Promise<void> | void
  /** Aborting stops training after the current batch; the best weights are kept. */
  signal?: AbortSignal
  /** Diagnostic lines (epoch summaries). */
  log?: (message: string) => void
  /** Minimum milliseconds between batch events (default 250). */
  progressIntervalMs?: number
  /**
   * Awaited between batches; training goes on when it resolves. This is how a caller pauses a run
   * (abort still works while paused once the gate resolves or rejects).
   */
  pauseGate?: () => Promise<void>
  /**
   * Weights to start from instead of a fresh initialisation (a fine-tune): another model's
   * `getWeights()`, of the same architecture and classes. The caller keeps ownership.
   */
  initialWeights?: readonly tf.Tensor[]
  /** The samples to hold out for validation, by key, instead of the seeded split (a fine-tune). */
  heldOut?: ReadonlySet<string>
  /**
   * Training samples, by key, kept in their shape as drawn (only their stroke width varies): a
   * fine-tune's corrections, while the rest is augmented (see FINE_TUNE_DEFAULTS and augmentBatch).
   */
  asDrawn?: ReadonlySet<string>
  /**
   * Which weights a run that completes ends with: the best epoch's (default), or the last
   * epoch's (a fine-tune: its held-out samples cannot see the corrections it learns, so the
   * best by their loss would be the parent it started from). A run that stops early keeps the
   * best either way.
   */
  keep?: 'best' | 'last'
  /** How each step runs (default `auto`: one TensorFlow graph on native, else eager; see step.ts). */
  step?: StepRequest
  /**
   * This run is member `index` (0-based) of an ensemble of `count` trained one after another
   * (see trainAndSave): its progress events count epochs, steps, elapsed time and the ETA across
   * the whole ensemble (`elapsedBefore`: seconds the earlier members took), and its log lines
   * name the network ("network 2/4"). Training itself is a plain run of `config`.
   */
  member?: MemberOfEnsemble
}

/** Where a run stands in an ensemble (TrainOptions.member). */
export interface MemberOfEnsemble {
  index: number
  count: number
  elapsedBefore: number
  /** The seed of the split every member trains and validates on (the ensemble's own seed). */
  splitSeed: number
}

/** An epoch that improved on the best so far, with the metrics a checkpoint of it records. */
export interface Improvement {
  /** 0-based. */
  epoch: number
  metrics: ModelMetrics
}

/** Outcome of `trainModel`. The caller owns `model` and must dispose it. */
export interface TrainResult {
  /** The model with the best weights seen (restored at the end), or the last ones if no epoch ended. */
  model: tf.LayersModel
  stopReason: StopReason
  /** Human-readable explanation when the run did not simply complete. */
  message?: string
  history: EpochProgress[]
  /**
   * 0-based epoch of this run whose weights the model holds (an ensemble member counts its own);
   * -1 when no epoch completed.
   */
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

/** Samples per second of the training batches: smoothed per batch for the ETA, totals for the run. */
class Throughput {
  seconds = 0
  samples = 0
  /** Moving average over recent batches. */
  smoothed = 0

  add(samples: number, seconds: number): void {
    this.seconds += seconds
    this.samples += samples
    const rate = samples / Math.max(seconds, 1e-6)
    this.smoothed =
      this.smoothed === 0 ? rate : this.smoothed + SPEED_SMOOTHING * (rate - this.smoothed)
  }

  /** Over the whole run so far. */
  get overall(): number {
    return this.samples / Math.max(this.seconds, 1e-6)
  }
}

/** The best epoch so far: its weights, its metrics, and how many epochs have passed without one. */
class BestEpoch {
  epoch = -1
  metrics: TrainResult['best'] = {}
  sinceImproved = 0
  private monitored = Infinity
  private weights: tf.Tensor[] | null = null

  /** Records an epoch; keeps its weights and returns true when `monitored` improved enough. */
  offer(
    epoch: number,
    monitored: number,
    metrics: TrainResult['best'],
    model: tf.LayersModel,
  ): boolean {
    if (!(Number.isFinite(monitored) && monitored < this.monitored - MIN_DELTA)) {
      this.sinceImproved += 1
      return false
    }
    this.monitored = monitored
    this.epoch = epoch
    this.metrics = metrics
    this.sinceImproved = 0
    if (this.weights) tf.dispose(this.weights)
    // Clones share the current buffers; later updates assign new ones, so these stay intact.
    this.weights = model.getWeights().map((w) => tf.clone(w))
    return true
  }

  /** Frees the copy of the best weights (the model keeps the ones it has). */
  discard(): void {
    if (this.weights) tf.dispose(this.weights)
    this.weights = null
  }

  /** Puts the best weights back into `model` (when an epoch finished) and frees the copy. */
  restoreInto(model: tf.LayersModel): void {
    if (!this.weights) return
    model.setWeights(this.weights)
    tf.dispose(this.weights)
    this.weights = null
  }
}

/** Time spent waiting at the pause gate, over the run and within the current epoch. */
class PauseClock {
  total = 0
  epoch = 0

  constructor(private readonly gate: (() => Promise<void>) | undefined) {}

  async wait(): Promise<void> {
    if (!this.gate) return
    const started = performance.now()
    await this.gate()
    const waited = (performance.now() - started) / 1000
    this.total += waited
    this.epoch += waited
  }
}

/** Everything one run's epochs share. */
interface Loop {
  options: TrainOptions
  config: TrainConfig
  model: tf.LayersModel
  /** Runs one optimisation step (a native graph or op by op) and owns the optimizer state. */
  trainingStep: TrainingStep
  /** The average of the weights that validation sees and the run keeps (config.emaDecay > 0). */
  average: WeightAverage | undefined
  train: Split
  /** Sample order, reshuffled each epoch. */
  order: Uint32Array
  /** 1 for the samples of `train` kept in their shape as drawn; undefined when there are none. */
  asDrawn: Uint8Array | undefined
  batchSize: number
  batchesPerEpoch: number
  totalSteps: number
  rngs: { shuffle: Rng; augment: Rng }
  throughput: Throughput
  pause: PauseClock
  /** Global step, across epochs. */
  step: number
  learningRate: number
  /** The loss divergence is measured against: the first batch's, then the first epoch's. */
  referenceLoss: number | null
  lastBatchEvent: number
  elapsed: () => number
  /** Maps this run's epochs, steps and times to the ensemble's (identity for a single run). */
  across: Across
}

/** A run's progress counted across an ensemble: earlier members' epochs, steps and seconds added. */
class Across {
  constructor(
    private readonly member: MemberOfEnsemble,
    private readonly epochs: number,
    private readonly stepsPerMember: number,
  ) {}

  epoch(epoch: number): number {
    return this.member.index * this.epochs + epoch
  }

  get epochsTotal(): number {
    return this.member.count * this.epochs
  }

  step(step: number): number {
    return this.member.index * this.stepsPerMember + step
  }

  /** Steps left in the whole ensemble after `step` of this member. */
  stepsLeft(step: number): number {
    return this.member.count * this.stepsPerMember - this.step(step)
  }

  elapsed(seconds: number): number {
    return this.member.elapsedBefore + seconds
  }

  /** "epoch 3/30" for epoch `epoch` of this run, "network 2/4 epoch 3/30" in an ensemble. */
  label(epoch: number): string {
    return epochLabel(this.epoch(epoch), { epochs: this.epochs, members: this.member.count })
  }
}

/** How an epoch's batches ended: all done (with their mean loss and accuracy), or interrupted. */
type EpochOutcome =
  | { done: true; loss: number; accuracy: number; seen: number; trainSeconds: number }
  | { done: false; stopReason: 'cancelled' }
  | { done: false; stopReason: 'diverged'; message: string }

/** Runs the batches of one epoch: augment, step, check for divergence, report, pause. */
async function trainEpoch(loop: Loop, epoch: number): Promise<EpochOutcome> {
  const { options, config, train, batchSize, batchesPerEpoch } = loop
  const progressInterval = options.progressIntervalMs ?? PROGRESS_INTERVAL_MS
  loop.rngs.shuffle.shuffle(loop.order)
  let lossSum = 0
  let correct = 0
  let seen = 0
  let trainSeconds = 0
  for (let batch = 0; batch < batchesPerEpoch; batch++) {
    if (options.signal?.aborted) return { done: false, stopReason: 'cancelled' }
    const batchStart = performance.now()
    const indices = loop.order.subarray(
      batch * batchSize,
      Math.min(train.count, (batch + 1) * batchSize),
    )
    const n = indices.length
    const images = augmentBatch(
      train.images,
      indices,
      config.augmentation,
      loop.rngs.augment,
      loop.asDrawn,
    )
    loop.learningRate = learningRateAt(
      config.lrSchedule,
      config.learningRate,
      loop.step,
      loop.totalSteps,
    )
    const { xs, ys } = batchTensors(train, indices, images)
    let stats
    try {
      stats = loop.trainingStep.run(xs, ys, loop.learningRate)
    } finally {
      xs.dispose()
      ys.dispose()
    }
    loop.step += 1
    loop.average?.update()
    const reference = (loop.referenceLoss ??= stats.loss)
    if (!Number.isFinite(stats.loss) || stats.loss > DIVERGENCE_FACTOR * reference) {
      const what = Number.isFinite(stats.loss)
        ? `loss is ${formatNumber(stats.loss)}, over ${DIVERGENCE_FACTOR}x the first-epoch loss (${formatNumber(reference)})`
        : `loss is ${stats.loss}`
      return {
        done: false,
        stopReason: 'diverged',
        message:
          `training diverged at epoch ${epoch + 1} batch ${batch + 1}: ${what}; ` +
          `try a lower learning rate (now ${formatNumber(config.learningRate)})`,
      }
    }
    const seconds = (performance.now() - batchStart) / 1000
    trainSeconds += seconds
    loop.throughput.add(n, seconds)
    lossSum += stats.loss * n
    correct += stats.correct
    seen += n

    const now = performance.now()
    if (
      options.onProgress &&
      (batch === batchesPerEpoch - 1 || now - loop.lastBatchEvent >= progressInterval)
    ) {
      loop.lastBatchEvent = now
      const speed = loop.throughput.smoothed
      const remaining = loop.across.stepsLeft(loop.step) * batchSize
      options.onProgress({
        kind: 'batch',
        epoch: loop.across.epoch(epoch),
        batch,
        batchesPerEpoch,
        step: loop.across.step(loop.step),
        loss: lossSum / seen,
        accuracy: correct / seen,
        samplesPerSecond: speed,
        etaSeconds: speed > 0 ? Math.max(0, remaining / speed) : 0,
        elapsedSeconds: loop.across.elapsed(loop.elapsed()),
      })
    }
    await yieldToEventLoop()
    await loop.pause.wait()
  }
  if (epoch === 0 && seen > 0) loop.referenceLoss = lossSum / seen
  return { done: true, loss: lossSum / seen, accuracy: correct / seen, seen, trainSeconds }
}

/** How closing an epoch went: validation was cancelled, or the epoch is recorded. */
type EpochClose = { cancelled: boolean }

/** 1 for each sample of `train` whose key is in `keys`; undefined when there is none. */
function asDrawnFlags(
  dataset: Dataset,
  train: Split,
  keys: ReadonlySet<string> | undefined,
): Uint8Array | undefined {
  if (!keys?.size) return undefined
  const flags = Uint8Array.from(keysOf(dataset, train), (key) => (keys.has(key) ? 1 : 0))
  return flags.includes(1) ? flags : undefined
}

/** Puts `weights` into a freshly built `model`; a model that does not fit them is refused. */
function startFrom(model: tf.LayersModel, weights: readonly tf.Tensor[]): void {
  try {
    model.setWeights([...weights])
  } catch (error) {
    model.dispose()
    throw new Error(`the weights to start from do not fit this network: ${errorMessage(error)}`, {
      cause: error,
    })
  }
}

/**
 * Trains a model for `config` on `dataset` with a custom loop (seeded shuffle, on-the-fly
 * augmentation, Adam with a learning-rate schedule, stable cross-entropy), so that cancel is
 * prompt and divergence is caught at the batch where it happens. Keeps the best weights (by
 * validation loss, or training loss without a validation split) and restores them at the end;
 * `onImproved` hears about each new best. No file is written here.
 * Call `initBackend` first; the active tfjs backend is used as is.
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { dataset, config, onProgress, signal, log } = options
  const runStart = performance.now()
  const splitSettings = options.member ? { ...config, seed: options.member.splitSeed } : config
  const { train, validation } = trainingSplits(dataset, splitSettings, options.heldOut)
  if (train.count === 0) throw new Error('the training split is empty')
  const backend = activeBackendName()
  const model = buildModel(architectureOf(config), dataset.labels.length, config.seed)
  if (options.initialWeights) startFrom(model, options.initialWeights)
  const batchSize = Math.min(config.batchSize, train.count)
  const batchesPerEpoch = Math.ceil(train.count / batchSize)
  const dropoutRng = createRng((config.seed ^ 0x27d4eb2f) >>> 0)
  const nextDropoutSeed = (): number => dropoutRng.int(2 ** 31)
  let trainingStep: TrainingStep
  try {
    trainingStep = createTrainingStep(model, { request: options.step, nextSeed: nextDropoutSeed })
  } catch (error) {
    // Only `step: 'graph'` throws here (the graph is not possible): nothing was trained.
    model.dispose()
    throw error
  }
  if (trainingStep.fallbackReason) log?.(`training op by op: ${trainingStep.fallbackReason}`)
  const loop: Loop = {
    options,
    config,
    model,
    trainingStep,
    average: config.emaDecay > 0 ? new WeightAverage(model, config.emaDecay) : undefined,
    train,
    order: Uint32Array.from({ length: train.count }, (_, i) => i),
    asDrawn: asDrawnFlags(dataset, train, options.asDrawn),
    batchSize,
    batchesPerEpoch,
    totalSteps: batchesPerEpoch * config.epochs,
    rngs: {
      shuffle: createRng(config.seed),
      augment: createRng((config.seed ^ 0x5bd1e995) >>> 0),
    },
    throughput: new Throughput(),
    pause: new PauseClock(options.pauseGate),
    step: 0,
    learningRate: config.learningRate,
    referenceLoss: null,
    lastBatchEvent: -Infinity,
    elapsed: () => (performance.now() - runStart) / 1000,
    across: new Across(
      options.member ?? { index: 0, count: 1, elapsedBefore: 0, splitSeed: config.seed },
      config.epochs,
      batchesPerEpoch * config.epochs,
    ),
  }
  const history: EpochProgress[] = []
  const best = new BestEpoch()
  let stopReason: StopReason = 'completed'
  let message: string | undefined

  /** Ends an epoch that trained all its batches: validate, keep if best, report, checkpoint. */
  const closeEpoch = async (
    epoch: number,
    outcome: Extract<EpochOutcome, { done: true }>,
    epochStart: number,
  ): Promise<EpochClose> => {
    const scores = validation ? await validate(model, validation, signal) : undefined
    if (scores === null) return { cancelled: true }
    const { loss, accuracy } = outcome
    const improved = best.offer(
      epoch,
      scores ? scores.loss : loss,
      scores
        ? { valLoss: scores.loss, valAccuracy: scores.accuracy, loss, accuracy }
        : { loss, accuracy },
      model,
    )
    // Time paused is not time training: it must not inflate the ETA.
    const epochSeconds = (performance.now() - epochStart) / 1000 - loop.pause.epoch
    const { across } = loop
    const event: EpochProgress = {
      kind: 'epoch',
      epoch: across.epoch(epoch),
      epochs: across.epochsTotal,
      step: across.step(loop.step),
      loss,
      accuracy,
      ...(scores ? { valLoss: scores.loss, valAccuracy: scores.accuracy } : {}),
      learningRate: loop.learningRate,
      samplesPerSecond: outcome.seen / Math.max(outcome.trainSeconds, 1e-6),
      etaSeconds: epochSeconds * (across.epochsTotal - across.epoch(epoch) - 1),
      elapsedSeconds: across.elapsed(loop.elapsed()),
      improved,
    }
    history.push(event)
    log?.(
      `${across.label(epoch)}: loss ${loss.toFixed(4)} acc ${accuracy.toFixed(4)}` +
        (scores
          ? ` val loss ${scores.loss.toFixed(4)} val acc ${scores.accuracy.toFixed(4)}`
          : '') +
        ` lr ${formatNumber(loop.learningRate)} ${epochSeconds.toFixed(1)}s${improved ? ' *' : ''}`,
    )
    onProgress?.(event)
    if (improved && options.onImproved) {
      await options.onImproved(model, {
        epoch,
        metrics: {
          ...(scores ? { valLoss: scores.loss, valAccuracy: scores.accuracy } : {}),
          epochs: epoch + 1,
          seconds: loop.elapsed(),
          samplesPerSecond: loop.throughput.overall,
        },
      })
    }
    return { cancelled: false }
  }

  try {
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      loop.pause.epoch = 0
      const epochStart = performance.now()
      const outcome = await trainEpoch(loop, epoch)
      if (!outcome.done) {
        stopReason = outcome.stopReason
        if (outcome.stopReason === 'diverged') message = outcome.message
        break
      }
      // Validation, the best-epoch snapshot and the checkpoint see the weight average when there
      // is one; training goes on from the last step's weights.
      const closing = (): Promise<EpochClose> => closeEpoch(epoch, outcome, epochStart)
      const closed = loop.average ? await loop.average.withAverage(closing) : await closing()
      if (closed.cancelled) {
        stopReason = 'cancelled'
        break
      }
      const patience = config.earlyStoppingPatience
      if (patience > 0 && best.sinceImproved >= patience && epoch < config.epochs - 1) {
        stopReason = 'early-stopped'
        message =
          `stopped early after epoch ${epoch + 1}: ${validation ? 'validation' : 'training'} loss ` +
          `has not improved for ${best.sinceImproved} epochs (best at epoch ${best.epoch + 1})`
        break
      }
    }
  } catch (error) {
    stopReason = 'failed'
    message = `training failed: ${errorMessage(error)}`
  } finally {
    trainingStep.dispose()
  }

  if (stopReason === 'cancelled') {
    message =
      best.epoch >= 0
        ? `cancelled; keeping the best model (epoch ${best.epoch + 1})`
        : 'cancelled before the first epoch ended; there is no model to keep'
  }
  const last = history.at(-1)
  const keepLast = options.keep === 'last' && stopReason === 'completed' && last !== undefined
  if (keepLast) {
    best.discard()
    loop.average?.applyTo()
  } else best.restoreInto(model)
  loop.average?.dispose()
  return {
    model,
    stopReason,
    ...(message !== undefined ? { message } : {}),
    history,
    bestEpoch: keepLast ? history.length - 1 : best.epoch,
    best: keepLast
      ? {
          loss: last.loss,
          accuracy: last.accuracy,
          ...(last.valLoss !== undefined ? { valLoss: last.valLoss } : {}),
          ...(last.valAccuracy !== undefined ? { valAccuracy: last.valAccuracy } : {}),
        }
      : best.metrics,
    seconds: loop.elapsed() - loop.pause.total,
    samplesPerSecond: loop.throughput.overall,
    backend,
    step: trainingStep.kind,
    trainCount: train.count,
    validationCount: validation?.count ?? 0,
  }
}
