import { stat } from 'node:fs/promises'
import { join } from 'node:path'

import type { BackendInfo, BackendRequest } from '@shared/schemas/backend'
import type { DatasetSummary, SampleImage } from '@shared/schemas/dataset'
import type { EvaluationReport } from '@shared/schemas/evaluation'
import type { ModelMetadata, ModelMetrics } from '@shared/schemas/model'
import type { TrainConfig } from '@shared/schemas/training'
import type * as tf from '@tensorflow/tfjs'

import { IMAGE_PIXELS, type Dataset, type Split } from '../data/types'
import type { EngineApi } from './engineApi'
import type {
  DatasetRef,
  EvalSplit,
  HostClassification,
  HostEvent,
  HostMethod,
  HostParams,
  HostResult,
  TrainAccepted,
  TrainJob,
  TrainOutcome,
} from './protocol'

/** Models kept loaded for classification and evaluation (each holds its weights in memory). */
const MODEL_CACHE_SIZE = 2

/** A loaded model and the file stamp it was loaded from. */
interface CachedModel {
  stamp: string
  loaded: Promise<{ model: tf.LayersModel; metadata: ModelMetadata }>
  /** Requests holding the model now: it is disposed only once it has left the cache and is unused. */
  users: number
  /** Out of the cache (evicted, or its files changed). */
  retired: boolean
  disposed: boolean
}

/** A model held for one request; `release()` it when done. */
interface ModelLease {
  model: tf.LayersModel
  metadata: ModelMetadata
  release: () => void
}

/** The training in progress. */
interface TrainingSession {
  runId: string
  controller: AbortController
  paused: boolean
  /** Resolvers of the trainer waiting at the pause gate. */
  waiters: (() => void)[]
}

/** Options of `EngineHost`. */
export interface EngineHostOptions {
  engine: EngineApi
  /** Sends one event to the services. */
  emit: (event: HostEvent) => void
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Decodes a base64 image payload, checking its size against width x height. */
function decodeGrayPayload(image: { width: number; height: number; data: string }): {
  width: number
  height: number
  data: Uint8Array
} {
  const bytes = Buffer.from(image.data, 'base64')
  const expected = image.width * image.height
  if (bytes.byteLength !== expected) {
    const error = new Error(
      `the drawn image has ${bytes.byteLength} bytes but ${image.width}x${image.height} needs ${expected}`,
    )
    error.name = 'ValidationError'
    throw error
  }
  return { width: image.width, height: image.height, data: new Uint8Array(bytes) }
}

/**
 * The engine as a message-driven service: keeps datasets and models in memory, runs one training
 * at a time (with pause, resume and stop), evaluates and classifies. It knows nothing about
 * processes: `processEntry` feeds it requests and forwards what it emits.
 */
export class EngineHost {
  private readonly engine: EngineApi
  private readonly emit: (event: HostEvent) => void
  private readonly datasets = new Map<string, Promise<Dataset>>()
  private readonly models = new Map<string, CachedModel>()
  private training: TrainingSession | null = null
  private importController: AbortController | null = null
  private backend: BackendInfo | null = null

  constructor(options: EngineHostOptions) {
    this.engine = options.engine
    this.emit = options.emit
  }

  /** Activates a compute backend and remembers it. */
  async initBackend(request: BackendRequest): Promise<BackendInfo> {
    this.backend = await this.engine.initBackend(request)
    return this.backend
  }

  /** Answers one request; throws what should travel back as the error. */
  async handle<M extends HostMethod>(method: M, params: HostParams<M>): Promise<HostResult<M>> {
    // Each branch narrows params by method; the table keeps the switch exhaustive.
    const table: { [K in HostMethod]: (p: HostParams<K>) => Promise<HostResult<K>> } = {
      'backend.init': (p) => this.initBackend(p.request),
      'dataset.loadBuiltin': (p) => this.loadBuiltin(p.id),
      'dataset.openIdx': (p) => this.openIdx(p),
      'dataset.importFolder': (p) => this.importFolder(p),
      'dataset.load': async (p) =>
        this.engine.summarizeDataset(await this.dataset(p.dataset), p.dataset.id),
      'dataset.cancelImport': async () => this.cancelImport(),
      'dataset.samples': (p) => this.samples(p),
      'dataset.forget': async (p) => ({ ok: this.datasets.delete(p.id) }),
      'training.start': (p) => this.startTraining(p),
      'training.pause': async (p) => this.pause(p.runId),
      'training.resume': async (p) => this.resume(p.runId),
      'training.stop': async (p) => this.stop(p.runId),
      'evaluation.run': (p) => this.evaluate(p),
      'evaluation.samples': (p) => this.evaluationSamples(p),
      'classify.image': (p) => this.classifyImage(p),
      'classify.file': (p) => this.classifyFile(p),
      'model.export': (p) => this.engine.exportModel(p),
    }
    const run = table[method] as (p: HostParams<M>) => Promise<HostResult<M>>
    return run(params)
  }

  /** The dataset behind `ref`, loaded once and cached. */
  private dataset(ref: DatasetRef): Promise<Dataset> {
    let pending = this.datasets.get(ref.id)
    if (!pending) {
      pending =
        ref.kind === 'builtin'
          ? this.engine.loadBuiltinMnist()
          : this.engine.loadSavedDataset(ref.dir)
      this.datasets.set(ref.id, pending)
      pending.catch(() => this.datasets.delete(ref.id))
    }
    return pending
  }

  private async loadBuiltin(id: string): Promise<DatasetSummary> {
    return this.engine.summarizeDataset(
      await this.dataset({ id, kind: 'builtin', name: 'mnist' }),
      id,
    )
  }

  private async keep(
    id: string,
    saveDir: string,
    dataset: Dataset,
    name: string | undefined,
  ): Promise<DatasetSummary> {
    const named = name ? { ...dataset, name } : dataset
    await this.engine.saveDataset(saveDir, named)
    this.datasets.set(id, Promise.resolve(named))
    return this.engine.summarizeDataset(named, id)
  }

  private async openIdx(p: HostParams<'dataset.openIdx'>): Promise<DatasetSummary> {
    const dataset = await this.engine.loadIdxDirectory(p.path)
    return this.keep(p.id, p.saveDir, dataset, p.name)
  }

  private async importFolder(p: HostParams<'dataset.importFolder'>): Promise<DatasetSummary> {
    if (this.importController) throw new Error('another import is in progress; cancel it first')
    const controller = new AbortController()
    this.importController = controller
    try {
      const dataset = await this.engine.importFolder(p.path, {
        signal: controller.signal,
        onProgress: (progress) => this.emit({ name: 'dataset.progress', payload: progress }),
      })
      if (controller.signal.aborted) throw new Error('the import was cancelled')
      this.emit({
        name: 'dataset.progress',
        payload: { phase: 'writing', done: 0, total: dataset.train.count },
      })
      const summary = await this.keep(p.id, p.saveDir, dataset, p.name)
      const total = summary.trainSize + summary.testSize
      this.emit({ name: 'dataset.progress', payload: { phase: 'done', done: total, total } })
      return summary
    } finally {
      if (this.importController === controller) this.importController = null
    }
  }

  private cancelImport(): { cancelled: boolean } {
    if (!this.importController) return { cancelled: false }
    this.importController.abort()
    return { cancelled: true }
  }

  private async samples(p: HostParams<'dataset.samples'>): Promise<SampleImage[]> {
    const dataset = await this.dataset(p.dataset)
    const split = p.split === 'test' ? dataset.test : dataset.train
    if (!split) return []
    const out: SampleImage[] = []
    let skipped = 0
    for (let i = 0; i < split.count && out.length < p.count; i++) {
      const label = split.labels[i]
      if (p.label !== undefined && label !== p.label) continue
      if (skipped < p.offset) {
        skipped++
        continue
      }
      out.push({ index: i, label, pixels: toBase64(imageAt(split, i)) })
    }
    return out
  }

  // ---- training -------------------------------------------------------------------------------

  private async startTraining(job: TrainJob): Promise<TrainAccepted> {
    if (this.training) {
      throw new Error('a training run is already in progress; stop it before starting another')
    }
    // Reserve before the first await, so a concurrent start is refused before it can load a
    // dataset or switch the backend under this run.
    const session: TrainingSession = {
      runId: job.runId,
      controller: new AbortController(),
      paused: false,
      waiters: [],
    }
    this.training = session
    try {
      const dataset = await this.dataset(job.dataset)
      const config = this.engine.resolveTrainConfig(job.config)
      if (config.architecture) {
        const report = this.engine.validateArchitecture(config.architecture, dataset.labels.length)
        if (!report.ok) throw new Error(`invalid architecture: ${report.errors.join('; ')}`)
      }
      // 'auto' after a run on an explicit backend must choose again, not stay on (say) cpu.
      const active = this.backend
      const satisfied =
        config.backend === 'auto' ? active?.requested === 'auto' : active?.name === config.backend
      const backend = active && satisfied ? active : await this.initBackend(config.backend)
      if (backend !== active) this.emit({ name: 'backend', payload: backend })
      // Start after this answer has been sent, so the services learn the config before any progress.
      setTimeout(() => void this.runTraining(session, job, dataset, config), 0)
      return {
        runId: job.runId,
        config,
        labels: [...dataset.labels],
        datasetName: dataset.name,
        backend,
      }
    } catch (error) {
      if (this.training === session) this.training = null
      throw error
    }
  }

  private async runTraining(
    session: TrainingSession,
    job: TrainJob,
    dataset: Dataset,
    config: TrainConfig,
  ): Promise<void> {
    let outcome: TrainOutcome
    this.emit({ name: 'training.state', payload: { runId: job.runId, state: 'running' } })
    try {
      const result = await this.engine.trainModel({
        dataset,
        config,
        signal: session.controller.signal,
        checkpointDir: job.checkpointDir,
        metadata: { name: job.name, inklabVersion: job.inklabVersion },
        pauseGate: () => this.pauseGate(session),
        onProgress: (progress) =>
          this.emit({ name: 'training.progress', payload: { runId: job.runId, progress } }),
      })
      let metrics: ModelMetrics = {
        epochs: result.history.length,
        seconds: result.seconds,
        samplesPerSecond: result.samplesPerSecond,
        ...(result.best.valAccuracy !== undefined ? { valAccuracy: result.best.valAccuracy } : {}),
        ...(result.best.valLoss !== undefined ? { valLoss: result.best.valLoss } : {}),
      }
      let modelSaved = false
      try {
        // Only weights that finished at least one epoch become the run's model.
        if (result.bestEpoch >= 0) {
          metrics = { ...metrics, ...this.testMetrics(result.model, dataset) }
          const metadata = this.engine.createModelMetadata({
            dataset,
            config,
            metrics,
            backend: result.backend,
            name: job.name,
            inklabVersion: job.inklabVersion,
          })
          await this.engine.saveModel(job.modelDir, result.model, metadata)
          modelSaved = true
        }
      } finally {
        result.model.dispose()
      }
      outcome = {
        runId: job.runId,
        state: result.stopReason,
        ...(result.message ? { message: result.message } : {}),
        metrics,
        modelSaved,
      }
    } catch (error) {
      outcome = {
        runId: job.runId,
        state: 'failed',
        message: `training failed: ${errorMessage(error)}`,
        modelSaved: false,
      }
    } finally {
      this.releaseGate(session)
      if (this.training === session) this.training = null
    }
    this.emit({ name: 'training.finished', payload: outcome })
  }

  /** Test accuracy and loss of a freshly trained model, when the dataset has a test split. */
  private testMetrics(model: tf.LayersModel, dataset: Dataset): Partial<ModelMetrics> {
    if (!dataset.test || dataset.test.count === 0) return {}
    const report = this.engine.evaluateModel(model, dataset.test, dataset.labels)
    return { testAccuracy: report.accuracy, testLoss: report.loss }
  }

  /** Called by the trainer between batches: waits while the run is paused. */
  private async pauseGate(session: TrainingSession): Promise<void> {
    if (!session.paused || session.controller.signal.aborted) return
    this.emit({ name: 'training.state', payload: { runId: session.runId, state: 'paused' } })
    while (session.paused && !session.controller.signal.aborted) {
      await new Promise<void>((resolve) => session.waiters.push(resolve))
    }
    if (!session.controller.signal.aborted) {
      this.emit({ name: 'training.state', payload: { runId: session.runId, state: 'running' } })
    }
  }

  private releaseGate(session: TrainingSession): void {
    const waiters = session.waiters.splice(0)
    for (const wake of waiters) wake()
  }

  private session(runId: string): TrainingSession | null {
    return this.training && this.training.runId === runId ? this.training : null
  }

  private pause(runId: string): { ok: boolean } {
    const session = this.session(runId)
    if (!session || session.paused) return { ok: false }
    // The state turns to 'paused' when the trainer reaches its pause gate (between batches).
    session.paused = true
    return { ok: true }
  }

  private resume(runId: string): { ok: boolean } {
    const session = this.session(runId)
    if (!session || !session.paused) return { ok: false }
    session.paused = false
    this.releaseGate(session)
    return { ok: true }
  }

  private stop(runId: string): { ok: boolean } {
    const session = this.session(runId)
    if (!session) return { ok: false }
    session.controller.abort()
    session.paused = false
    this.releaseGate(session)
    return { ok: true }
  }

  // ---- models: evaluation and classification --------------------------------------------------

  /**
   * Holds the model in `dir` for one request, loading it unless the cached one's files are
   * unchanged. The model stays alive until released, even if the cache drops it meanwhile.
   */
  private async acquireModel(dir: string): Promise<ModelLease> {
    const entry = await this.modelEntry(dir)
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      entry.users--
      this.disposeIfUnused(entry)
    }
    try {
      const { model, metadata } = await entry.loaded
      return { model, metadata, release }
    } catch (error) {
      release()
      throw error
    }
  }

  /** The cache entry of `dir`, counted as used (synchronously once its files are stamped). */
  private async modelEntry(dir: string): Promise<CachedModel> {
    const files = await Promise.all(
      ['model.json', 'weights.bin', 'metadata.json'].map((name) =>
        stat(join(dir, name)).then(
          (s) => `${s.mtimeMs}:${s.size}`,
          () => 'missing',
        ),
      ),
    )
    const stamp = files.join('|')
    const cached = this.models.get(dir)
    if (cached) this.models.delete(dir)
    if (cached && cached.stamp === stamp) {
      // Most recently used last: eviction takes the first.
      this.models.set(dir, cached)
      cached.users++
      return cached
    }
    if (cached) this.retire(cached)
    const loaded = this.engine.loadModel(dir)
    const entry: CachedModel = { stamp, loaded, users: 1, retired: false, disposed: false }
    this.models.set(dir, entry)
    loaded.catch(() => {
      if (this.models.get(dir) === entry) this.models.delete(dir)
    })
    while (this.models.size > MODEL_CACHE_SIZE) {
      const [oldest, evicted] = this.models.entries().next().value as [string, CachedModel]
      this.models.delete(oldest)
      this.retire(evicted)
    }
    return entry
  }

  private retire(entry: CachedModel): void {
    entry.retired = true
    this.disposeIfUnused(entry)
  }

  private disposeIfUnused(entry: CachedModel): void {
    if (!entry.retired || entry.users > 0 || entry.disposed) return
    entry.disposed = true
    void entry.loaded.then(
      ({ model }) => model.dispose(),
      () => undefined,
    )
  }

  /** The labelled samples an evaluation runs on. */
  private async evalSplit(
    ref: DatasetRef,
    spec: EvalSplit,
  ): Promise<{ dataset: Dataset; split: Split }> {
    const dataset = await this.dataset(ref)
    if (spec.kind === 'test') {
      if (!dataset.test) throw new Error(`dataset "${dataset.name}" has no test split`)
      return { dataset, split: dataset.test }
    }
    const pool =
      spec.limit > 0 && spec.limit < dataset.train.count
        ? this.engine.takeStratified(dataset.train, spec.limit, spec.seed)
        : dataset.train
    return {
      dataset,
      split: this.engine.stratifiedSplit(pool, spec.fraction, spec.seed).validation,
    }
  }

  private async evaluate(p: HostParams<'evaluation.run'>): Promise<EvaluationReport> {
    const lease = this.acquireModel(p.modelDir)
    try {
      const [{ model, metadata }, { split }] = await Promise.all([
        lease,
        this.evalSplit(p.dataset, p.split),
      ])
      if (split.count === 0) throw new Error('there are no samples to evaluate on')
      const report = this.engine.evaluateModel(model, split, metadata.labels)
      return {
        ...report,
        actuals: report.actuals ?? Array.from(split.labels.subarray(0, split.count)),
      }
    } finally {
      void lease.then(
        (held) => held.release(),
        () => undefined,
      )
    }
  }

  private async evaluationSamples(p: HostParams<'evaluation.samples'>): Promise<SampleImage[]> {
    const { split } = await this.evalSplit(p.dataset, p.split)
    return p.indices
      .filter((i) => i < split.count)
      .map((i) => ({ index: i, label: split.labels[i], pixels: toBase64(imageAt(split, i)) }))
  }

  private async classifyPixels(
    modelDir: string,
    image: { width: number; height: number; data: Uint8Array },
  ): Promise<HostClassification> {
    const { pixels, empty } = this.engine.preprocess(image)
    const input = toBase64(pixels)
    if (empty) return { prediction: null, input, empty: true }
    const { model, metadata, release } = await this.acquireModel(modelDir)
    try {
      const [prediction] = this.engine.predictPixels(model, [pixels], metadata.labels, {
        tta: true,
      })
      return { prediction: prediction ?? null, input, empty: false }
    } finally {
      release()
    }
  }

  private classifyImage(p: HostParams<'classify.image'>): Promise<HostClassification> {
    return this.classifyPixels(p.modelDir, decodeGrayPayload(p.image))
  }

  private async classifyFile(p: HostParams<'classify.file'>): Promise<HostClassification> {
    return this.classifyPixels(p.modelDir, await this.engine.decodeImageFile(p.path))
  }

  /** Stops any training and frees models (before the process exits). */
  dispose(): void {
    if (this.training) this.stop(this.training.runId)
    for (const entry of this.models.values()) {
      entry.users = 0
      this.retire(entry)
    }
    this.models.clear()
    this.datasets.clear()
  }
}

/** One 28x28 image of a split. */
function imageAt(split: Split, index: number): Uint8Array {
  return split.images.subarray(index * IMAGE_PIXELS, (index + 1) * IMAGE_PIXELS)
}
