import { stat } from 'node:fs/promises'
import { join } from 'node:path'

import type { BackendInfo, BackendRequest } from '@shared/schemas/backend'
import type { DatasetSummary, SampleImage } from '@shared/schemas/dataset'
import type { EvaluationReport } from '@shared/schemas/evaluation'
import type { ModelMetadata } from '@shared/schemas/model'
import type * as tf from '@tensorflow/tfjs'

import { KeyedQueue } from '@shared/node/keyedQueue'

import { sourcePath } from '../data/sources'
import { asRoot, sampleKey } from '../data/split'
import { DatasetError, IMAGE_PIXELS, type Dataset, type Split } from '../data/types'
import type { EngineApi } from './engineApi'
import type {
  DatasetRef,
  EngineHostApi,
  EvalSplit,
  HostCall,
  HostClassification,
  HostParams,
  HostProgress,
  ImportJob,
  TrainJob,
  TrainOutcome,
  TrainReport,
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
  /** The call's signal: the services cancel the call to stop the run. */
  signal: AbortSignal
  paused: boolean
  /** Resolvers of the trainer waiting at the pause gate. */
  waiters: (() => void)[]
}

/** Options of `EngineHost`. */
export interface EngineHostOptions {
  engine: EngineApi
  /** Hears that the active backend changed (a run asked for another one). */
  onBackendChange?: (backend: BackendInfo) => void
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
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
 * The engine host: keeps datasets and models in memory, runs one training at a time (with pause
 * and resume; cancelling the call stops it), evaluates and classifies. It executes and reports;
 * the services own every run. `api` is the implementation of `EngineHostApi`, the table
 * `serveHost` answers requests from.
 */
export class EngineHost {
  private readonly engine: EngineApi
  private readonly onBackendChange: (backend: BackendInfo) => void
  /** Datasets as runs see them: the stored copy with the edits log applied. */
  private readonly datasets = new Map<string, Promise<Dataset>>()
  /** The stored copies under edited datasets (null for a drawn dataset), kept between edits. */
  private readonly bases = new Map<string, Promise<Dataset | null>>()
  /** Edits to one dataset, one at a time (its id is the key). */
  private readonly edits = new KeyedQueue()
  private readonly models = new Map<string, CachedModel>()
  private training: TrainingSession | null = null
  private backend: BackendInfo | null = null

  /** Every method the services may call, by name. */
  readonly api: EngineHostApi = {
    'dataset.loadBuiltin': (p) => this.loadBuiltin(p),
    'dataset.openIdx': (p) => this.openIdx(p),
    'dataset.importFolder': (p, call) => this.importFolder(p, call),
    'dataset.samples': (p) => this.samples(p),
    'dataset.summary': async (p) =>
      this.engine.summarizeDataset(await this.dataset(p.dataset), p.dataset.id),
    'collection.add': (p) => this.collect(p),
    'collection.undo': (p) => this.undoDrawing(p),
    'collection.correct': (p) => this.correct(p),
    'dataset.rekeyEdits': (p) => this.rekeyEdits(p),
    'dataset.forget': async (p) => {
      this.bases.delete(p.id)
      return { ok: this.datasets.delete(p.id) }
    },
    'training.run': (job, call) => this.train(job, call),
    'training.pause': async (p) => this.pause(p.runId),
    'training.resume': async (p) => this.resume(p.runId),
    'evaluation.run': (p, call) => this.evaluate(p, call),
    'evaluation.samples': (p) => this.evaluationSamples(p),
    'classify.image': (p) => this.classifyImage(p),
    'classify.file': (p) => this.classifyFile(p),
    'classify.bytes': async (p) =>
      this.classifyPixels(
        p.modelDir,
        await this.engine.decodeImageBuffer(new Uint8Array(Buffer.from(p.data, 'base64')), p.name),
      ),
    'model.export': (p) => this.engine.exportModel(p),
  }

  constructor(options: EngineHostOptions) {
    this.engine = options.engine
    this.onBackendChange = options.onBackendChange ?? (() => undefined)
  }

  /** Activates a compute backend and remembers it. */
  async initBackend(request: BackendRequest): Promise<BackendInfo> {
    this.backend = await this.engine.initBackend(request)
    return this.backend
  }

  /** The dataset behind `ref`, loaded once and cached. */
  private dataset(ref: DatasetRef): Promise<Dataset> {
    let pending = this.datasets.get(ref.id)
    if (!pending) {
      pending = this.derive(ref)
      this.datasets.set(ref.id, pending)
      pending.catch(() => this.datasets.delete(ref.id))
    }
    return pending
  }

  /** The stored copy behind `ref` (null for a drawn dataset), loaded once and cached. */
  private base(ref: DatasetRef): Promise<Dataset | null> {
    let pending = this.bases.get(ref.id)
    if (!pending) {
      pending =
        ref.kind === 'drawn'
          ? Promise.resolve(null)
          : (ref.kind === 'builtin'
              ? this.engine.loadBuiltinMnist()
              : this.engine.loadSavedDataset(ref.dir)
            ).then(asRoot)
      this.bases.set(ref.id, pending)
      pending.catch(() => this.bases.delete(ref.id))
    }
    return pending
  }

  /** The stored copy with the edits log applied (read afresh). */
  private async derive(ref: DatasetRef): Promise<Dataset> {
    const base = await this.base(ref)
    const { ops } = ref.edits ? await this.engine.readEdits(ref.edits) : { ops: [] }
    if (base && !ops.length) return base
    const name = ref.kind === 'drawn' ? ref.name : (base?.name ?? ref.id)
    return this.engine.applyEdits(base, ops, { name })
  }

  private async loadBuiltin(p: HostParams<'dataset.loadBuiltin'>): Promise<DatasetSummary> {
    const ref: DatasetRef = {
      id: p.id,
      kind: 'builtin',
      name: 'mnist',
      ...(p.edits ? { edits: p.edits } : {}),
    }
    return this.engine.summarizeDataset(await this.dataset(ref), p.id)
  }

  private async keep(
    id: string,
    saveDir: string,
    dataset: Dataset,
    name: string | undefined,
  ): Promise<DatasetSummary> {
    const named = asRoot({
      ...dataset,
      ...(name ? { name } : {}),
      importedAt: new Date().toISOString(),
    })
    await this.engine.saveDataset(saveDir, named)
    this.datasets.set(id, Promise.resolve(named))
    this.bases.set(id, Promise.resolve(named))
    return this.engine.summarizeDataset(named, id)
  }

  private async openIdx(p: ImportJob): Promise<DatasetSummary> {
    const dataset = await this.engine.loadIdxDirectory(p.path)
    return this.keep(p.id, p.saveDir, dataset, p.name)
  }

  private async importFolder(
    p: ImportJob,
    call: HostCall<HostProgress<'dataset.importFolder'>>,
  ): Promise<DatasetSummary> {
    const cancelled = (): Error => {
      const error = new Error('the import was cancelled')
      error.name = 'AbortError'
      return error
    }
    let dataset: Dataset
    try {
      dataset = await this.engine.importFolder(p.path, {
        signal: call.signal,
        onProgress: (progress) => call.progress(progress),
        ...(p.test ? { test: p.test } : {}),
      })
    } catch (error) {
      throw call.signal.aborted ? cancelled() : error
    }
    if (call.signal.aborted) throw cancelled()
    call.progress({ phase: 'writing', done: 0, total: dataset.train.count })
    const summary = await this.keep(p.id, p.saveDir, dataset, p.name)
    const total = summary.trainSize + summary.testSize
    call.progress({ phase: 'done', done: total, total })
    return summary
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
      out.push(sampleAt(split, i, sampleKey(dataset, p.split, split, i)))
    }
    return out
  }

  // ---- edits: drawings and corrections ------------------------------------------------------

  /** Runs one edit of `ref`'s log, then has the cache follow it; answers with the new summary. */
  private edit<T extends object>(
    ref: DatasetRef & { edits: string },
    change: (current: Dataset, base: Dataset | null) => Promise<T>,
  ): Promise<T & { summary: DatasetSummary }> {
    return this.edits.run(ref.id, async () => {
      const [current, base] = await Promise.all([this.dataset(ref), this.base(ref)])
      const answer = await change(current, base)
      const updated = this.derive(ref)
      this.datasets.set(ref.id, updated)
      updated.catch(() => this.datasets.delete(ref.id))
      return { ...answer, summary: this.engine.summarizeDataset(await updated, ref.id) }
    })
  }

  private collect(p: HostParams<'collection.add'>) {
    return this.edit(p.dataset, async (current) => {
      this.engine.checkLabel(p.label, current, p.dataset.kind === 'drawn')
      const { pixels, empty } = this.engine.preprocess(decodeGrayPayload(p.image))
      if (empty) throw new DatasetError('the drawing has no ink to save: draw something first')
      const key = await this.engine.addDrawing(p.dataset.edits, {
        label: p.label,
        pixels,
        ink: p.ink,
      })
      return { sample: { key, label: p.label, pixels: toBase64(pixels) } }
    })
  }

  private undoDrawing(p: HostParams<'collection.undo'>) {
    return this.edit(p.dataset, async () => ({
      removed: await this.engine.undoLastDrawing(p.dataset.edits),
    }))
  }

  private correct(p: HostParams<'collection.correct'>) {
    return this.edit(p.dataset, async (current, base) => {
      const { ops } = await this.engine.readEdits(p.dataset.edits)
      this.engine.checkCorrection(
        base,
        ops,
        p.key,
        p.correction,
        current,
        p.dataset.kind === 'drawn',
      )
      await this.engine.appendCorrection(p.dataset.edits, p.key, p.correction)
      return {}
    })
  }

  /**
   * Gives the position keys of folder samples in `p.dataset`'s log their file keys while its
   * stored copy is the one they were written against (before a refresh replaces it).
   */
  private rekeyEdits(p: HostParams<'dataset.rekeyEdits'>) {
    return this.edits.run(p.dataset.id, async () =>
      this.engine.rekeyEditsLog(p.dataset.edits, await this.base(p.dataset)),
    )
  }

  // ---- training ----------------------------------------------------------------------------

  /** The backend a run asks for: the active one when it satisfies the request, else a new one. */
  private async backendFor(request: BackendRequest): Promise<BackendInfo> {
    // 'auto' after a run on an explicit backend must choose again, not stay on (say) cpu.
    const active = this.backend
    const satisfied = request === 'auto' ? active?.requested === 'auto' : active?.name === request
    if (active && satisfied) return active
    const backend = await this.initBackend(request)
    this.onBackendChange(backend)
    return backend
  }

  private async train(job: TrainJob, call: HostCall<TrainReport>): Promise<TrainOutcome> {
    if (this.training) {
      throw new Error('a training run is already in progress; stop it before starting another')
    }
    // Reserved before the first await: a concurrent run is refused before it can load a dataset
    // or switch the backend under this one.
    const session: TrainingSession = {
      runId: job.runId,
      signal: call.signal,
      paused: false,
      waiters: [],
    }
    this.training = session
    const wake = (): void => this.releaseGate(session)
    call.signal.addEventListener('abort', wake)
    try {
      const dataset = await this.dataset(job.dataset)
      call.progress({ kind: 'started', backend: await this.backendFor(job.config.backend) })
      const result = await this.engine.trainAndSave({
        dataset,
        config: job.config,
        modelDir: job.modelDir,
        checkpointDir: job.checkpointDir,
        name: job.name,
        inklabVersion: job.inklabVersion,
        ...(job.initialModelDir ? { initialModelDir: job.initialModelDir } : {}),
        ...(job.heldOut ? { heldOut: job.heldOut } : {}),
        ...(job.correctionsSince ? { correctionsSince: job.correctionsSince } : {}),
        signal: call.signal,
        pauseGate: () => this.pauseGate(session, call),
        onProgress: (progress) => call.progress(progress),
        log: (message) => {
          if (!message.startsWith('epoch ')) console.warn(`engine host: ${message}`)
        },
      })
      return {
        state: result.stopReason,
        ...(result.message ? { message: result.message } : {}),
        metrics: result.metrics,
        evaluation: result.evaluation,
        modelSaved: result.saved,
        validationKeys: result.validationKeys,
      }
    } finally {
      call.signal.removeEventListener('abort', wake)
      this.releaseGate(session)
      if (this.training === session) this.training = null
    }
  }

  /** Called by the trainer between batches: waits while the run is paused. */
  private async pauseGate(session: TrainingSession, call: HostCall<TrainReport>): Promise<void> {
    if (!session.paused || session.signal.aborted) return
    call.progress({ kind: 'paused' })
    while (session.paused && !session.signal.aborted) {
      await new Promise<void>((resolve) => session.waiters.push(resolve))
    }
    if (!session.signal.aborted) call.progress({ kind: 'resumed' })
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

  /** The labelled samples an evaluation runs on: the named split, as the run's training made it. */
  private async evalSplit(
    ref: DatasetRef,
    spec: EvalSplit,
  ): Promise<{ dataset: Dataset; split: Split }> {
    const dataset = await this.dataset(ref)
    const heldOut = spec.heldOut ? new Set(spec.heldOut) : undefined
    const split = this.engine.namedSplit(dataset, spec.split, spec.settings, heldOut)
    if (!split) throw new Error(`dataset "${dataset.name}" has no ${spec.split} split`)
    return { dataset, split }
  }

  private async evaluate(
    p: HostParams<'evaluation.run'>,
    call: HostCall,
  ): Promise<EvaluationReport> {
    const lease = this.acquireModel(p.modelDir)
    let held: ModelLease | null = null
    try {
      const [leased, { dataset, split }] = await Promise.all([
        lease,
        this.evalSplit(p.dataset, p.split),
      ])
      held = leased
      // Abandoned while the model and the data loaded: skip the work.
      call.signal.throwIfAborted()
      if (split.count === 0) throw new Error('there are no samples to evaluate on')
      const report = this.engine.evaluateModel(held.model, split, held.metadata.labels)
      return {
        ...report,
        // Each mistake names its file, and where it is, to be opened in its folder.
        misclassified: report.misclassified.map((m) => {
          const path = m.file === undefined ? null : sourcePath(dataset.source, m.file)
          return path ? { ...m, path } : m
        }),
        actuals: report.actuals ?? Array.from(split.labels.subarray(0, split.count)),
      }
    } finally {
      // Released at once when held; else once the model has loaded (or failed to).
      if (held) held.release()
      else
        void lease.then(
          (leased) => leased.release(),
          () => undefined,
        )
    }
  }

  private async evaluationSamples(p: HostParams<'evaluation.samples'>): Promise<SampleImage[]> {
    const { dataset, split } = await this.evalSplit(p.dataset, p.split)
    const from = p.split.split === 'test' ? 'test' : 'train'
    return p.indices
      .filter((i) => i < split.count)
      .map((i) => sampleAt(split, i, sampleKey(dataset, from, split, i)))
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

  /** Frees models and datasets (before the process exits). */
  dispose(): void {
    if (this.training) this.releaseGate(this.training)
    for (const entry of this.models.values()) {
      entry.users = 0
      this.retire(entry)
    }
    this.models.clear()
    this.datasets.clear()
    this.bases.clear()
  }
}

/** Sample `index` of a split as the routes send it: its pixels, label, lasting key and file. */
function sampleAt(split: Split, index: number, key: string): SampleImage {
  const file = split.files?.[index]
  return {
    index,
    label: split.labels[index],
    pixels: toBase64(imageAt(split, index)),
    key,
    ...(file ? { file } : {}),
  }
}

/** One 28x28 image of a split. */
function imageAt(split: Split, index: number): Uint8Array {
  return split.images.subarray(index * IMAGE_PIXELS, (index + 1) * IMAGE_PIXELS)
}
