import type { SerializedError } from '@shared/contract/define'
import type { GrayImagePayload, TrainRequest } from '@shared/contract/training.routes'
import type { BackendInfo, BackendRequest } from '@shared/schemas/backend'
import type { DatasetSummary, ImportProgress, SampleImage } from '@shared/schemas/dataset'
import type { EvaluationReport } from '@shared/schemas/evaluation'
import type { ExportFormat, ModelExportResult } from '@shared/schemas/export'
import type { ModelMetrics, Prediction } from '@shared/schemas/model'
import type { RunState } from '@shared/schemas/run'
import type { TrainConfig, TrainProgress } from '@shared/schemas/training'

/**
 * Messages between the services (Electron main or the serve-mode Node process) and the engine host
 * (a utility process or a forked child). Everything is plain JSON: pixels travel as base64.
 *
 * services -> host: `request` (id, method, params).
 * host -> services: `ready` once (the backend it activated), `response` (id, result | error) and
 * `event` (progress and state, not tied to a request).
 */

/** Where the host finds a dataset's pixels; it loads and caches them on first use. */
export type DatasetRef =
  { id: string; kind: 'builtin'; name: 'mnist' } | { id: string; kind: 'saved'; dir: string }

/** Which labelled samples an evaluation uses. */
export type EvalSplit =
  | { kind: 'test' }
  /** The validation split training held out (`validationSplit` and `seed` of the run's config). */
  | { kind: 'validation'; fraction: number; seed: number; limit: number }

/** A classification without the model id (the services add it). */
export interface HostClassification {
  prediction: Prediction | null
  /** The 28x28 input the model saw, base64 of 784 bytes. */
  input: string
  empty: boolean
}

/** Everything the host needs to run one training. */
export interface TrainJob {
  runId: string
  name: string
  dataset: DatasetRef
  /** As the form sent it: the preset's defaults fill the missing fields. */
  config: TrainRequest['config']
  /** Final model folder (written when the run ends with a model). */
  modelDir: string
  /** Best-so-far checkpoint folder, rewritten at each improving epoch. */
  checkpointDir: string
  inklabVersion: string
}

/** What `training.start` answers once the job is accepted (training then runs in the background). */
export interface TrainAccepted {
  runId: string
  config: TrainConfig
  labels: string[]
  datasetName: string
  backend: BackendInfo
}

/** How a run ended, sent once as the `training.finished` event. */
export interface TrainOutcome {
  runId: string
  state: Extract<RunState, 'completed' | 'early-stopped' | 'cancelled' | 'diverged' | 'failed'>
  message?: string
  metrics?: Partial<ModelMetrics>
  /** True when a final model was written to the job's `modelDir`. */
  modelSaved: boolean
}

/** Every method the host answers: params and result types by name. */
export interface HostMethods {
  'backend.init': { params: { request: BackendRequest }; result: BackendInfo }
  'dataset.loadBuiltin': { params: { id: string }; result: DatasetSummary }
  'dataset.openIdx': {
    params: { id: string; path: string; name?: string; saveDir: string }
    result: DatasetSummary
  }
  'dataset.importFolder': {
    params: { id: string; path: string; name?: string; saveDir: string }
    result: DatasetSummary
  }
  'dataset.load': { params: { dataset: DatasetRef }; result: DatasetSummary }
  'dataset.cancelImport': { params: Record<string, never>; result: { cancelled: boolean } }
  'dataset.samples': {
    params: {
      dataset: DatasetRef
      split: 'train' | 'test'
      label?: number
      offset: number
      count: number
    }
    result: SampleImage[]
  }
  'dataset.forget': { params: { id: string }; result: { ok: boolean } }
  'training.start': { params: TrainJob; result: TrainAccepted }
  'training.pause': { params: { runId: string }; result: { ok: boolean } }
  'training.resume': { params: { runId: string }; result: { ok: boolean } }
  'training.stop': { params: { runId: string }; result: { ok: boolean } }
  'evaluation.run': {
    params: { modelDir: string; dataset: DatasetRef; split: EvalSplit }
    result: EvaluationReport
  }
  'evaluation.samples': {
    params: { dataset: DatasetRef; split: EvalSplit; indices: number[] }
    result: SampleImage[]
  }
  'classify.image': {
    params: { modelDir: string; image: GrayImagePayload }
    result: HostClassification
  }
  'classify.file': { params: { modelDir: string; path: string }; result: HostClassification }
  /** Writes a model folder as Keras .h5, ONNX or a TF.js folder at `out`. */
  'model.export': {
    params: { modelDir: string; format: ExportFormat; out: string }
    result: ModelExportResult
  }
}

export type HostMethod = keyof HostMethods
export type HostParams<M extends HostMethod> = HostMethods[M]['params']
export type HostResult<M extends HostMethod> = HostMethods[M]['result']

/** Events the host emits on its own, by name. */
export interface HostEvents {
  'dataset.progress': ImportProgress
  'training.progress': { runId: string; progress: TrainProgress }
  'training.state': { runId: string; state: RunState; message?: string }
  'training.finished': TrainOutcome
  /** The active backend changed (a run asked for another one). */
  backend: BackendInfo
}

export type HostEventName = keyof HostEvents

/** One host event as a discriminated union on `name`. */
export type HostEvent = { [N in HostEventName]: { name: N; payload: HostEvents[N] } }[HostEventName]

/** services -> host: one request. */
export type HostRequest = {
  [M in HostMethod]: { type: 'request'; id: number; method: M; params: HostParams<M> }
}[HostMethod]

/** Every message the services send. */
export type ToHostMessage = HostRequest

/** host -> services. */
export type FromHostMessage =
  /** Sent once, after the backend is initialised (or failed to, with `error`). */
  | { type: 'ready'; backend: BackendInfo | null; error?: SerializedError }
  | { type: 'response'; id: number; result: unknown }
  | { type: 'response'; id: number; error: SerializedError }
  | { type: 'event'; event: HostEvent }

/** Names of every host method, for runtime checks of incoming requests. */
export const HOST_METHODS: readonly HostMethod[] = [
  'backend.init',
  'dataset.loadBuiltin',
  'dataset.openIdx',
  'dataset.importFolder',
  'dataset.load',
  'dataset.cancelImport',
  'dataset.samples',
  'dataset.forget',
  'training.start',
  'training.pause',
  'training.resume',
  'training.stop',
  'evaluation.run',
  'evaluation.samples',
  'classify.image',
  'classify.file',
  'model.export',
]

/** Name of the environment variable that picks the backend when the host starts. */
export const BACKEND_ENV_VAR = 'INKLAB_BACKEND'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** True when `value` looks like a request the host understands (method name and numeric id). */
export function isToHostMessage(value: unknown): value is ToHostMessage {
  return (
    isRecord(value) &&
    value.type === 'request' &&
    typeof value.id === 'number' &&
    typeof value.method === 'string' &&
    (HOST_METHODS as readonly string[]).includes(value.method) &&
    isRecord(value.params)
  )
}

/** True when `value` has the shape of a host message (the services ignore anything else). */
export function isFromHostMessage(value: unknown): value is FromHostMessage {
  if (!isRecord(value)) return false
  switch (value.type) {
    case 'ready':
      return 'backend' in value
    case 'response':
      return typeof value.id === 'number' && ('result' in value || isRecord(value.error))
    case 'event':
      return isRecord(value.event) && typeof value.event.name === 'string'
    default:
      return false
  }
}

/** Turns anything thrown into the `{ name, message, file? }` that crosses process boundaries. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const file = (error as { file?: unknown }).file
    return {
      name: error.name || 'Error',
      message: error.message || String(error),
      ...(typeof file === 'string' ? { file } : {}),
    }
  }
  return { name: 'Error', message: typeof error === 'string' ? error : String(error) }
}

/** An error that crossed a process boundary, rebuilt with its original name and file. */
export class RemoteError extends Error {
  readonly file?: string

  constructor(error: SerializedError) {
    super(error.message)
    this.name = error.name
    if (error.file !== undefined) this.file = error.file
  }
}
