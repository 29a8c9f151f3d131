import type { SerializedError } from '@shared/errors'
import type { BackendInfo } from '@shared/schemas/backend'
import type { CollectedSample, Correction } from '@shared/schemas/collection'
import type {
  DatasetSummary,
  GrayImagePayload,
  ImportProgress,
  SampleImage,
  TestSplit,
} from '@shared/schemas/dataset'
import type { EvaluationReport, EvaluationSummary, SplitName } from '@shared/schemas/evaluation'
import type { ExportFormat, ModelExportResult } from '@shared/schemas/export'
import type { Ink } from '@shared/schemas/ink'
import type { ModelMetrics, Prediction } from '@shared/schemas/model'
import type { StopReason, TrainConfig, TrainProgress } from '@shared/schemas/training'

/**
 * The boundary between the services (Electron main, or the serve-mode Node process) and the engine
 * host (a utility process, or a forked child). `EngineHostApi` is the one declaration of what the
 * services may ask; the host implements it, the services' client is typed from it, and the wire
 * messages below carry any of its methods. Everything is plain JSON: pixels travel as base64.
 *
 * A call carries its own cancellation (`cancel` with the call's id aborts its signal) and its own
 * progress (`progress` messages with the call's id), as VS Code's IPC does.
 */

/**
 * Where the host finds a dataset's pixels; it loads and caches them on first use. `edits` is the
 * dataset's edits log (drawings, relabelled and excluded samples), applied on top when it exists;
 * a drawn dataset is its log alone.
 */
export type DatasetRef =
  | { id: string; kind: 'builtin'; name: 'mnist'; edits?: string }
  | { id: string; kind: 'saved'; dir: string; edits?: string }
  | { id: string; kind: 'drawn'; name: string; edits: string }

/** A dataset the host changed, with its new counts. */
export interface ChangedDataset {
  summary: DatasetSummary
}

/** The samples an evaluation uses: a named split, resolved as the run's training resolved it. */
export interface EvalSplit {
  split: SplitName
  /** The run's split settings (for `validation` and `train`: the same seeded samples as in training). */
  settings: Pick<TrainConfig, 'limit' | 'validationSplit' | 'seed'>
  /** The keys the run recorded as held out, when it did: they define its validation split. */
  heldOut?: string[]
}

/** A classification without the model id (the services add it). */
export interface HostClassification {
  prediction: Prediction | null
  /** The 28x28 input the model saw, base64 of 784 bytes. */
  input: string
  empty: boolean
}

/** Everything the host needs to run one training: the services resolved the config already. */
export interface TrainJob {
  runId: string
  name: string
  dataset: DatasetRef
  config: TrainConfig
  /** Final model folder (written when the run ends with a model). */
  modelDir: string
  /** Best-so-far checkpoint folder, rewritten at each improving epoch. */
  checkpointDir: string
  inklabVersion: string
  /** A fine-tune: the model folder whose weights the run starts from. */
  initialModelDir?: string
  /** Samples to hold out for validation by key (a fine-tune holds out its parent's). */
  heldOut?: string[]
  /** A fine-tune: when its parent started; the samples labelled since are its corrections. */
  correctionsSince?: string
}

/** What a training call reports while it runs. */
export type TrainReport =
  /** The dataset is loaded and the backend chosen: the first batch comes next. */
  | { kind: 'started'; backend: BackendInfo }
  /** The trainer reached its pause gate, or left it. */
  | { kind: 'paused' }
  | { kind: 'resumed' }
  | TrainProgress

/** How a run ended: the answer to `training.run`. */
export interface TrainOutcome {
  state: StopReason
  message?: string
  metrics: Partial<ModelMetrics>
  /** The saved model on held-out data, naming the split; null when nothing was evaluated. */
  evaluation: EvaluationSummary | null
  /** True when a final model was written to the job's `modelDir`. */
  modelSaved: boolean
  /** The keys of the samples the run held out for validation (for its later evaluations). */
  validationKeys: string[]
}

/** A dataset to read from `path` and keep (its pixels written to `saveDir`). */
export interface ImportJob {
  id: string
  path: string
  name?: string
  saveDir: string
  /** Folder imports: how the held-out test split is made (default: see `importFolder`). */
  test?: TestSplit
}

/** What a host method gets beside its params: the call's cancellation and its progress channel. */
export interface HostCall<P = never> {
  signal: AbortSignal
  progress(value: P): void
}

/** The engine host's API: the one declaration of every method the services may call. */
export interface EngineHostApi {
  /** Built-in MNIST, with its edits log (`edits`) applied when it has one. */
  'dataset.loadBuiltin'(params: { id: string; edits?: string }): Promise<DatasetSummary>
  'dataset.openIdx'(params: ImportJob): Promise<DatasetSummary>
  'dataset.importFolder'(params: ImportJob, call: HostCall<ImportProgress>): Promise<DatasetSummary>
  'dataset.samples'(params: {
    dataset: DatasetRef
    split: 'train' | 'test'
    label?: number
    offset: number
    count: number
  }): Promise<SampleImage[]>
  /** A dataset's summary as it is now, its edits log applied (after a refresh, say). */
  'dataset.summary'(params: { dataset: DatasetRef }): Promise<DatasetSummary>
  /** Saves a drawing (preprocessed as a classification would be) into a dataset's edits log. */
  'collection.add'(params: {
    dataset: DatasetRef & { edits: string }
    label: string
    image: GrayImagePayload
    ink: Ink
  }): Promise<ChangedDataset & { sample: CollectedSample }>
  /** Removes the drawing saved last into the dataset. */
  'collection.undo'(params: {
    dataset: DatasetRef & { edits: string }
  }): Promise<ChangedDataset & { removed: { key: string; label: string } | null }>
  /** Relabels, excludes or restores one sample (in the edits log only). */
  'collection.correct'(params: {
    dataset: DatasetRef & { edits: string }
    key: string
    correction: Correction
  }): Promise<ChangedDataset>
  /**
   * Rewrites the position keys of folder samples in a dataset's edits log as file keys, against
   * its stored copy as it is now: a refresh does it before it replaces the copy.
   */
  'dataset.rekeyEdits'(params: {
    dataset: DatasetRef & { edits: string }
  }): Promise<{ rekeyed: number; stale: number }>
  /** Drops a dataset from the host's cache (it was deleted). */
  'dataset.forget'(params: { id: string }): Promise<{ ok: boolean }>
  /** Trains, evaluates and saves; resolves when the run ends. Cancelling the call stops the run. */
  'training.run'(job: TrainJob, call: HostCall<TrainReport>): Promise<TrainOutcome>
  'training.pause'(params: { runId: string }): Promise<{ ok: boolean }>
  'training.resume'(params: { runId: string }): Promise<{ ok: boolean }>
  'evaluation.run'(
    params: { modelDir: string; dataset: DatasetRef; split: EvalSplit },
    call: HostCall,
  ): Promise<EvaluationReport>
  'evaluation.samples'(params: {
    dataset: DatasetRef
    split: EvalSplit
    indices: number[]
  }): Promise<SampleImage[]>
  'classify.image'(params: {
    modelDir: string
    image: GrayImagePayload
  }): Promise<HostClassification>
  'classify.file'(params: { modelDir: string; path: string }): Promise<HostClassification>
  /** Classifies the bytes of an image file (base64) sent from a browser; `name` is for errors. */
  'classify.bytes'(params: {
    modelDir: string
    name: string
    data: string
  }): Promise<HostClassification>
  /** Writes a model folder as Keras .h5, ONNX or a TF.js folder at `out`. */
  'model.export'(params: {
    modelDir: string
    format: ExportFormat
    out: string
  }): Promise<ModelExportResult>
}

export type HostMethod = keyof EngineHostApi
export type HostParams<M extends HostMethod> = Parameters<EngineHostApi[M]>[0]
export type HostResult<M extends HostMethod> = Awaited<ReturnType<EngineHostApi[M]>>
/** What method `M` reports while it runs (`never` for methods without progress). */
export type HostProgress<M extends HostMethod> =
  Parameters<EngineHostApi[M]> extends [unknown, HostCall<infer P>] ? P : never

/** services -> host. */
export type ToHostMessage =
  | { type: 'request'; id: number; method: HostMethod; params: unknown }
  /** Aborts the signal of call `id`. */
  | { type: 'cancel'; id: number }

/** host -> services. */
export type FromHostMessage =
  /** Sent once, after the backend is initialised (or failed to, with `error`). */
  | { type: 'ready'; backend: BackendInfo | null; error?: SerializedError }
  | { type: 'progress'; id: number; value: unknown }
  | { type: 'response'; id: number; result: unknown }
  | { type: 'response'; id: number; error: SerializedError }
  /** The active backend changed (a run asked for another one). */
  | { type: 'backend'; backend: BackendInfo }

/** Name of the environment variable that picks the backend when the host starts. */
export const BACKEND_ENV_VAR = 'INKLAB_BACKEND'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** True when `value` has the shape of a message to the host (which methods exist, it checks). */
export function isToHostMessage(value: unknown): value is ToHostMessage {
  if (!isRecord(value) || typeof value.id !== 'number') return false
  if (value.type === 'cancel') return true
  return value.type === 'request' && typeof value.method === 'string' && isRecord(value.params)
}

/** True when `value` has the shape of a host message (the services ignore anything else). */
export function isFromHostMessage(value: unknown): value is FromHostMessage {
  if (!isRecord(value)) return false
  switch (value.type) {
    case 'ready':
      return 'backend' in value
    case 'progress':
      return typeof value.id === 'number' && 'value' in value
    case 'response':
      return typeof value.id === 'number' && ('result' in value || isRecord(value.error))
    case 'backend':
      return isRecord(value.backend)
    default:
      return false
  }
}
