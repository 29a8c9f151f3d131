import { errorMessage } from '@shared/errors'
import { fineTuneClassesProblem, fineTuneMembersProblem } from '@shared/fineTune'
import type { BackendName } from '@shared/schemas/backend'
import type { EvaluationSummary } from '@shared/schemas/evaluation'
import type { ModelMetrics } from '@shared/schemas/model'
import type { StopReason, TrainConfig, TrainProgress } from '@shared/schemas/training'

import * as tf from '@tensorflow/tfjs'

import { DatasetError, type Dataset, type Split } from '../data/types'
import { evaluateModel } from '../eval/evaluate'
import { createModelMetadata } from '../io/metadata'
import { loadModel, saveModel } from '../io/modelFiles'
import { combineModels, ensembleSize } from '../model/ensemble'
import { heldOutSplit, keysOf, trainingSplits } from './splits'
import type { StepKind } from './step'
import {
  activeBackendName,
  trainModel,
  type EpochProgress,
  type TrainOptions,
  type TrainResult,
} from './trainer'

/** Arguments of `trainAndSave`. */
export interface TrainAndSaveOptions {
  dataset: Dataset
  /** A resolved config (see `resolveTrainConfig`). */
  config: TrainConfig
  /** The final model folder, written once at least one epoch finished. */
  modelDir: string
  /** The best model so far is written here at each improving epoch (may be `modelDir` itself). */
  checkpointDir?: string
  /** Written into the model's metadata. */
  name?: string
  inklabVersion?: string
  signal?: AbortSignal
  pauseGate?: () => Promise<void>
  onProgress?: (progress: TrainProgress) => void
  /** Diagnostic lines (epoch summaries, a checkpoint that could not be written). */
  log?: (message: string) => void
  progressIntervalMs?: number
  /**
   * A fine-tune: the model folder whose weights training starts from. Its classes must be the
   * dataset's, in the same order.
   */
  initialModelDir?: string
  /**
   * The keys of the samples to hold out for validation instead of the seeded split: a
   * fine-tune's are its parent's `validationKeys`, so that nothing either model trained on is
   * held out, and every drawing or correction added since trains.
   */
  heldOut?: readonly string[]
  /**
   * A fine-tune: when its parent started (ISO time). The samples the dataset's edits log added or
   * relabelled since are its corrections, trained on in their shape as drawn, only their stroke
   * width varied (see FINE_TUNE_DEFAULTS).
   */
  correctionsSince?: string
  /**
   * Which weights a completed run saves: its best epoch's, or its last's; by default the last
   * for a fine-tune (`initialModelDir`), the best otherwise.
   */
  keep?: 'best' | 'last'
}

/** What one run of `trainAndSave` did. */
export interface TrainAndSaveResult {
  stopReason: StopReason
  message?: string
  history: EpochProgress[]
  /**
   * 0-based epoch the saved model comes from (in an ensemble, the last member's best, counted
   * across the members); -1 when no epoch finished (nothing saved).
   */
  bestEpoch: number
  /** How many networks the saved model averages (1: one network; 0: nothing saved). */
  members: number
  /** The metrics recorded in the saved model's metadata (the run's, when nothing was saved). */
  metrics: ModelMetrics
  /** The saved model on held-out data, naming the split; null when nothing was evaluated. */
  evaluation: EvaluationSummary | null
  /** True when `modelDir` now holds the run's model. */
  saved: boolean
  backend: BackendName
  /** How the training steps ran: one TensorFlow graph each (native), or op by op. */
  step: StepKind
  trainCount: number
  validationCount: number
  /** The lasting keys of the validation samples the run held out (none without a split). */
  validationKeys: string[]
}

/**
 * The weights of the model in `dir`, to start a fine-tune from; refused when its classes are not
 * the dataset's (a fine-tune keeps a model's classes).
 */
async function weightsToStartFrom(dir: string, dataset: Dataset): Promise<tf.Tensor[]> {
  const { model, metadata } = await loadModel(dir)
  try {
    const problem = fineTuneClassesProblem(metadata.labels, dataset.name, dataset.labels)
    if (problem) throw new DatasetError(problem)
    const ensemble = fineTuneMembersProblem(ensembleSize(model))
    if (ensemble) throw new DatasetError(`cannot fine-tune the model in ${dir}: ${ensemble}`)
    return model.getWeights().map((weight) => weight.clone())
  } finally {
    model.dispose()
  }
}

/** The keys of the samples `dataset`'s edits log added or relabelled after `since` (ISO time). */
function correctionsOf(dataset: Dataset, since: string): Set<string> {
  const from = Date.parse(since)
  const keys = new Set<string>()
  for (const [key, at] of dataset.labelledAt ?? []) if (Date.parse(at) > from) keys.add(key)
  return keys
}

/** What the runs of an ensemble's members (or of one network) add up to. */
interface MembersRun {
  /** The last member's run. */
  last: TrainResult
  /** The members that finished (completed or stopped early), or the first one's best weights. */
  finished: tf.LayersModel[]
  /** Every member's epochs, counted across the ensemble. */
  history: EpochProgress[]
  /** The best epoch of the last network in `finished`, counted across the ensemble; -1 if none. */
  bestEpoch: number
  /** The figures of each network in `finished` at its best epoch. */
  bests: TrainResult['best'][]
  seconds: number
  samplesPerSecond: number
  stopReason: StopReason
  message?: string
}

/** A member ends as a network of the ensemble when it completed or stopped early. */
function finishedRun(result: TrainResult): boolean {
  return (
    result.bestEpoch >= 0 &&
    (result.stopReason === 'completed' || result.stopReason === 'early-stopped')
  )
}

/**
 * Trains `config.members` networks one after another (member k with seed `seed + k`, all on the
 * split of `seed`), or one. After each finished member but the last, `onMemberFinished` hears the
 * members so far. A member that is cancelled, diverges or fails ends the ensemble with those that
 * finished; when none did, the first member's best weights stand, as in a run of one network.
 */
async function trainMembers(
  options: TrainAndSaveOptions,
  single: Omit<TrainOptions, 'config' | 'member'>,
  onMemberFinished: (finished: tf.LayersModel[], metrics: ModelMetrics) => Promise<void>,
): Promise<MembersRun> {
  const { config, log } = options
  const count = config.members
  const finished: tf.LayersModel[] = []
  const history: EpochProgress[] = []
  let seconds = 0
  let samples = 0
  let last: TrainResult | undefined
  let bestEpoch = -1
  const bests: TrainResult['best'][] = []
  let index = 0
  try {
    for (; index < count; index++) {
      const result = await trainModel({
        ...single,
        // The first member is exactly the run of one network; the others differ by seed only.
        config: index === 0 ? config : { ...config, seed: (config.seed + index) | 0 },
        ...(count > 1
          ? { member: { index, count, elapsedBefore: seconds, splitSeed: config.seed } }
          : {}),
        // Only the first member checkpoints its epochs; later ones checkpoint the finished members.
        ...(index > 0 ? { onImproved: undefined } : {}),
      })
      last = result
      history.push(...result.history)
      seconds += result.seconds
      samples += result.samplesPerSecond * result.seconds
      const done = finishedRun(result)
      if (done || (index === 0 && result.bestEpoch >= 0)) {
        finished.push(result.model)
        bests.push(result.best)
        bestEpoch = history.length - result.history.length + result.bestEpoch
      } else result.model.dispose()
      if (!done) break
      if (count > 1) {
        log?.(
          `network ${index + 1}/${count} finished: best epoch ${result.bestEpoch + 1}` +
            (result.best.valAccuracy !== undefined
              ? `, validation accuracy ${(result.best.valAccuracy * 100).toFixed(2)}%`
              : ''),
        )
      }
      if (index < count - 1) {
        await onMemberFinished(finished, {
          epochs: history.length,
          seconds,
          samplesPerSecond: seconds > 0 ? samples / seconds : 0,
        })
      }
    }
  } catch (error) {
    for (const member of finished) member.dispose()
    throw error
  }
  if (!last) throw new Error('no network was trained')
  const { stopReason } = last
  let { message } = last
  if (index < count && index > 0) {
    message =
      `${message ?? stopReason} (network ${index + 1} of ${count}); keeping the average of the ` +
      `${finished.length} network${finished.length === 1 ? '' : 's'} that finished`
  }
  return {
    last,
    finished,
    history,
    bestEpoch,
    bests,
    seconds,
    samplesPerSecond: seconds > 0 ? samples / seconds : 0,
    stopReason,
    ...(message !== undefined ? { message } : {}),
  }
}

/**
 * The run's own figures, before any evaluation: one network's validation figures at its best
 * epoch (an ensemble's average is measured on the validation split instead).
 */
function trainingMetrics(run: MembersRun): ModelMetrics {
  const best = run.bests.length === 1 ? run.bests[0] : {}
  return {
    epochs: run.history.length,
    seconds: run.seconds,
    samplesPerSecond: run.samplesPerSecond,
    ...(best.valAccuracy !== undefined ? { valAccuracy: best.valAccuracy } : {}),
    ...(best.valLoss !== undefined ? { valLoss: best.valLoss } : {}),
  }
}

/** Accuracy and loss of `model` on `split`, as an EvaluationSummary of split `name`. */
function summarise(
  model: tf.LayersModel,
  name: EvaluationSummary['split'],
  split: Split,
  labels: string[],
): EvaluationSummary {
  const report = evaluateModel(model, split, labels)
  return { split: name, accuracy: report.accuracy, loss: report.loss, count: report.count }
}

/**
 * Train, evaluate, save: the one path the engine host (the app) and `inklab train` share. Trains
 * with `trainModel`, keeping a checkpoint of each improving epoch; then, when an epoch finished,
 * evaluates the best weights on held-out data (the test split, else the validation split, and the
 * result says which) and saves the model with metadata that records it. `testAccuracy` is only
 * ever set from a test split. An ensemble (`config.members` > 1) trains its members one after
 * another, checkpoints the average of those finished after each, and saves their average (see
 * combineModels), whose validation figures it measures itself. The models are disposed before
 * this returns.
 */
export async function trainAndSave(options: TrainAndSaveOptions): Promise<TrainAndSaveResult> {
  const { dataset, config, checkpointDir, log } = options
  if (options.initialModelDir && config.members > 1) {
    throw new DatasetError('a fine-tune trains one network; set the number of networks to 1')
  }
  const metadataFor = (metrics: ModelMetrics, members: number) =>
    createModelMetadata({
      dataset,
      config,
      metrics,
      members,
      backend: activeBackendName(),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.inklabVersion !== undefined ? { inklabVersion: options.inklabVersion } : {}),
    })
  const heldOut = options.heldOut ? new Set(options.heldOut) : undefined
  const validation = trainingSplits(dataset, config, heldOut).validation
  const validationKeys = validation ? keysOf(dataset, validation) : []
  const corrections = options.correctionsSince
    ? correctionsOf(dataset, options.correctionsSince)
    : undefined
  const initialWeights = options.initialModelDir
    ? await weightsToStartFrom(options.initialModelDir, dataset)
    : undefined
  /** Saves a checkpoint; one that cannot be written costs a crash's protection, not the run. */
  const checkpoint = (model: tf.LayersModel, metrics: ModelMetrics, members: number) =>
    checkpointDir
      ? saveModel(checkpointDir, model, metadataFor(metrics, members)).catch((error: unknown) =>
          log?.(`could not save the checkpoint to ${checkpointDir}: ${errorMessage(error)}`),
        )
      : Promise.resolve()
  let run: MembersRun
  try {
    run = await trainMembers(
      options,
      {
        dataset,
        ...(initialWeights ? { initialWeights } : {}),
        ...(heldOut ? { heldOut } : {}),
        ...(corrections ? { asDrawn: corrections } : {}),
        // A fine-tune keeps its last weights: see TrainOptions.keep.
        keep: options.keep ?? (options.initialModelDir ? 'last' : 'best'),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.pauseGate ? { pauseGate: options.pauseGate } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(log ? { log } : {}),
        ...(options.progressIntervalMs !== undefined
          ? { progressIntervalMs: options.progressIntervalMs }
          : {}),
        ...(checkpointDir
          ? { onImproved: (model, { metrics }) => checkpoint(model, metrics, 1) }
          : {}),
      },
      async (finished, metrics) => {
        const average = combineModels(finished)
        try {
          await checkpoint(average, metrics, finished.length)
        } finally {
          if (average !== finished[0]) average.dispose()
        }
      },
    )
  } finally {
    if (initialWeights) tf.dispose([...initialWeights])
  }
  const { last, finished } = run
  const outcome = {
    stopReason: run.stopReason,
    ...(run.message !== undefined ? { message: run.message } : {}),
    history: run.history,
    bestEpoch: run.bestEpoch,
    members: finished.length,
    backend: last.backend,
    step: last.step,
    trainCount: last.trainCount,
    validationCount: last.validationCount,
    validationKeys,
  }
  let metrics = trainingMetrics(run)
  // Only weights that finished at least one epoch become a model.
  if (!finished.length) return { ...outcome, metrics, evaluation: null, saved: false }
  const model = combineModels(finished)
  try {
    if (finished.length > 1) {
      // Every member held out the same samples: their average is measured on them.
      if (validation) {
        const together = summarise(model, 'validation', validation, dataset.labels)
        metrics = { ...metrics, valAccuracy: together.accuracy, valLoss: together.loss }
      }
    }
    const judged = heldOutSplit(dataset, config, heldOut)
    let evaluation: EvaluationSummary | null = null
    if (judged) {
      if (finished.length > 1) {
        for (const [k, member] of finished.entries()) {
          const alone = summarise(member, judged.name, judged.split, dataset.labels)
          log?.(
            `network ${k + 1} of ${finished.length} alone: ${judged.name} accuracy ` +
              `${(alone.accuracy * 100).toFixed(2)}%, loss ${alone.loss.toFixed(4)}`,
          )
        }
      }
      evaluation = summarise(model, judged.name, judged.split, dataset.labels)
      metrics = {
        ...metrics,
        evaluation,
        ...(judged.name === 'test'
          ? { testAccuracy: evaluation.accuracy, testLoss: evaluation.loss }
          : {}),
      }
    }
    await saveModel(options.modelDir, model, metadataFor(metrics, finished.length))
    return { ...outcome, metrics, evaluation, saved: true }
  } finally {
    if (model !== finished[0]) model.dispose()
    for (const member of finished) member.dispose()
  }
}
