import type { BackendInfo, BackendName, BackendRequest } from '@shared/schemas/backend'
import type { DatasetSummary, ImportProgress } from '@shared/schemas/dataset'
import type { EvaluationReport } from '@shared/schemas/evaluation'
import type { ModelMetadata, Prediction } from '@shared/schemas/model'
import type { EpochRecord } from '@shared/schemas/run'
import type {
  StopReason,
  TrainConfig,
  TrainConfigInput,
  TrainProgress,
} from '@shared/schemas/training'
import type * as tf from '@tensorflow/tfjs'

import type { Dataset, GrayImage, Split } from '../data/types'
import type { ModelMetadataInput } from '../io/metadata'
import type { ArchitectureReport } from '../model/validate'

/** Options of the engine's `trainModel`, as far as the host uses them. */
export interface TrainOptions {
  dataset: Dataset
  config: TrainConfig
  onProgress?: (progress: TrainProgress) => void
  signal?: AbortSignal
  checkpointDir?: string
  /**
   * Awaited by the trainer between batches; resolves when the run may go on. This is how pause
   * works: the trainer must call it (a trainer that does not simply never pauses).
   */
  pauseGate?: () => Promise<void>
  /** Metadata fields for checkpoints that the engine cannot know. */
  metadata?: { name?: string; inklabVersion?: string }
}

/** What the engine's `trainModel` returns, as far as the host uses it. */
export interface TrainOutput {
  /** The best weights seen (the caller disposes it). */
  model: tf.LayersModel
  stopReason: StopReason
  message?: string
  history: EpochRecord[]
  /** 0-based epoch whose weights the model holds; -1 when no epoch completed. */
  bestEpoch: number
  best: { valLoss?: number; valAccuracy?: number; loss?: number; accuracy?: number }
  seconds: number
  samplesPerSecond: number
  backend: BackendName
}

/**
 * The engine functions the host calls. `processEntry` passes the real engine module; tests can pass
 * fakes. Signatures follow docs/ARCHITECTURE.md.
 */
export interface EngineApi {
  initBackend(request: BackendRequest): Promise<BackendInfo>
  loadBuiltinMnist(): Promise<Dataset>
  loadIdxDirectory(dir: string): Promise<Dataset>
  importFolder(
    dir: string,
    options: { onProgress?: (progress: ImportProgress) => void; signal?: AbortSignal },
  ): Promise<Dataset>
  decodeImageFile(path: string): Promise<GrayImage>
  preprocess(image: GrayImage): { pixels: Uint8Array; empty: boolean }
  stratifiedSplit(split: Split, fraction: number, seed: number): { train: Split; validation: Split }
  takeStratified(split: Split, n: number, seed: number): Split
  saveDataset(dir: string, dataset: Dataset): Promise<void>
  loadSavedDataset(dir: string): Promise<Dataset>
  summarizeDataset(dataset: Dataset, id: string): DatasetSummary
  resolveTrainConfig(input: Partial<TrainConfigInput>): TrainConfig
  validateArchitecture(
    architecture: TrainConfig['architecture'] & object,
    numClasses: number,
  ): ArchitectureReport
  trainModel(options: TrainOptions): Promise<TrainOutput>
  evaluateModel(model: tf.LayersModel, split: Split, labels: string[]): EvaluationReport
  saveModel(dir: string, model: tf.LayersModel, metadata: ModelMetadata): Promise<void>
  loadModel(dir: string): Promise<{ model: tf.LayersModel; metadata: ModelMetadata }>
  predictPixels(model: tf.LayersModel, pixels: Uint8Array[], labels: string[]): Prediction[]
  createModelMetadata(input: ModelMetadataInput): ModelMetadata
}
