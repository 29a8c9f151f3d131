import { errorMessage } from '@shared/errors'
import type { BackendName } from '@shared/schemas/backend'
import type { EvaluationSummary } from '@shared/schemas/evaluation'
import type { ModelMetrics } from '@shared/schemas/model'
import type { StopReason, TrainConfig, TrainProgress } from '@shared/schemas/training'

import type { Dataset } from '../data/types'
import { evaluateModel } from '../eval/evaluate'
import { createModelMetadata } from '../io/metadata'
import { saveModel } from '../io/modelFiles'
import { heldOutSplit } from './splits'
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
  const result = await trainModel({
    dataset,
    config,
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
  const outcome = {
    stopReason: result.stopReason,
    ...(result.message !== undefined ? { message: result.message } : {}),
    history: result.history,
    bestEpoch: result.bestEpoch,
    backend: result.backend,
    step: result.step,
    trainCount: result.trainCount,
    validationCount: result.validationCount,
  }
  try {
    let metrics = trainingMetrics(result)
    // Only weights that finished at least one epoch become a model.
    if (result.bestEpoch < 0) return { ...outcome, metrics, evaluation: null, saved: false }
    const heldOut = heldOutSplit(dataset, config)
    let evaluation: EvaluationSummary | null = null
    if (heldOut) {
      const report = evaluateModel(result.model, heldOut.split, dataset.labels)
      evaluation = {
        split: heldOut.name,
        accuracy: report.accuracy,
        loss: report.loss,
        count: report.count,
      }
      metrics = {
        ...metrics,
        evaluation,
        ...(heldOut.name === 'test'
          ? { testAccuracy: report.accuracy, testLoss: report.loss }
          : {}),
      }
    }
    await saveModel(options.modelDir, result.model, metadataFor(metrics))
    return { ...outcome, metrics, evaluation, saved: true }
  } finally {
    result.model.dispose()
  }
}
