import { errorMessage } from '@shared/errors'
import { fineTuneClassesProblem } from '@shared/fineTune'
import type { BackendName } from '@shared/schemas/backend'
import type { EvaluationSummary } from '@shared/schemas/evaluation'
import type { ModelMetrics } from '@shared/schemas/model'
import type { StopReason, TrainConfig, TrainProgress } from '@shared/schemas/training'

import * as tf from '@tensorflow/tfjs'

import { DatasetError, type Dataset } from '../data/types'
import { evaluateModel } from '../eval/evaluate'
import { createModelMetadata } from '../io/metadata'
import { loadModel, saveModel } from '../io/modelFiles'
import { heldOutSplit, keysOf, trainingSplits } from './splits'
import type { StepKind } from './step'
import { activeBackendName, trainModel, type EpochProgress, type TrainResult } from './trainer'

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
  /** 0-based epoch the saved model comes from; -1 when no epoch finished (nothing saved). */
  bestEpoch: number
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

/** The run's own figures, before any evaluation. */
function trainingMetrics(result: TrainResult): ModelMetrics {
  return {
    epochs: result.history.length,
    seconds: result.seconds,
    samplesPerSecond: result.samplesPerSecond,
    ...(result.best.valAccuracy !== undefined ? { valAccuracy: result.best.valAccuracy } : {}),
    ...(result.best.valLoss !== undefined ? { valLoss: result.best.valLoss } : {}),
  }
}

/**
 * Train, evaluate, save: the one path the engine host (the app) and `inklab train` share. Trains
 * with `trainModel`, keeping a checkpoint of each improving epoch; then, when an epoch finished,
 * evaluates the best weights on held-out data (the test split, else the validation split, and the
 * result says which) and saves the model with metadata that records it. `testAccuracy` is only
 * ever set from a test split. The model is disposed before this returns.
 */
export async function trainAndSave(options: TrainAndSaveOptions): Promise<TrainAndSaveResult> {
  const { dataset, config, checkpointDir, log } = options
  const metadataFor = (metrics: ModelMetrics) =>
    createModelMetadata({
      dataset,
      config,
      metrics,
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
  let result: TrainResult
  try {
    result = await trainModel({
      dataset,
      config,
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
        ? {
            // A checkpoint that cannot be written costs a crash's protection, not the run.
            onImproved: (model, { metrics }) =>
              saveModel(checkpointDir, model, metadataFor(metrics)).catch((error: unknown) =>
                log?.(`could not save the checkpoint to ${checkpointDir}: ${errorMessage(error)}`),
              ),
          }
        : {}),
    })
  } finally {
    if (initialWeights) tf.dispose([...initialWeights])
  }
  const outcome = {
    stopReason: result.stopReason,
    ...(result.message !== undefined ? { message: result.message } : {}),
    history: result.history,
    bestEpoch: result.bestEpoch,
    backend: result.backend,
    step: result.step,
    trainCount: result.trainCount,
    validationCount: result.validationCount,
    validationKeys,
  }
  try {
    let metrics = trainingMetrics(result)
    // Only weights that finished at least one epoch become a model.
    if (result.bestEpoch < 0) return { ...outcome, metrics, evaluation: null, saved: false }
    const judged = heldOutSplit(dataset, config, heldOut)
    let evaluation: EvaluationSummary | null = null
    if (judged) {
      const report = evaluateModel(result.model, judged.split, dataset.labels)
      evaluation = {
        split: judged.name,
        accuracy: report.accuracy,
        loss: report.loss,
        count: report.count,
      }
      metrics = {
        ...metrics,
        evaluation,
        ...(judged.name === 'test' ? { testAccuracy: report.accuracy, testLoss: report.loss } : {}),
      }
    }
    await saveModel(options.modelDir, result.model, metadataFor(metrics))
    return { ...outcome, metrics, evaluation, saved: true }
  } finally {
    result.model.dispose()
  }
}
