import { appendFile, mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'

import { exists, readJsonOrNull, writeJsonAtomic } from '@shared/node/files'
import { tidyModelFolder } from '@shared/node/modelFolder'

import { EvaluationReportSchema, type EvaluationReport } from '@shared/schemas/evaluation'
import { ModelMetadataSchema, type ModelMetrics } from '@shared/schemas/model'
import {
  EpochRecordSchema,
  RunDetailSchema,
  type EpochRecord,
  type RunDetail,
  type RunState,
} from '@shared/schemas/run'
import { TrainConfigSchema } from '@shared/schemas/training'
import { z } from 'zod'

import { NotFoundError } from './errors'
import { isSafeId, KeyedQueue } from './fsUtil'

/**
 * What `run.json` holds: the run's detail without its epoch history (kept in `history.jsonl`) and
 * without `active` (which run is active is a setting, not a property of the run).
 */
export type RunRecord = Omit<RunDetail, 'history' | 'active' | 'batches'>

/** A stored run with its epoch history. */
export type StoredRun = RunRecord & { history: EpochRecord[] }

/** Id of the pretrained model shipped with the app. */
export const BUILTIN_RUN_ID = 'builtin-mnist'
/** Id under which built-in MNIST is listed among datasets. */
export const BUILTIN_DATASET_ID = 'builtin-mnist'

/** States of a run that has not ended yet. */
export const ACTIVE_STATES: readonly RunState[] = ['starting', 'running', 'paused']

/** Message given to a run found unfinished at startup (its process is gone). */
export const INTERRUPTED_MESSAGE =
  'the app closed or the trainer crashed during training; the best checkpoint was kept'
/** The same, for a run that had not saved a checkpoint yet. */
export const INTERRUPTED_NO_CHECKPOINT_MESSAGE =
  'the app closed or the trainer crashed during training, before any checkpoint was saved'

const RunRecordSchema = RunDetailSchema.omit({ history: true, active: true, batches: true })

/** `heldout.json`: the samples a run held out, by lasting key. */
const HeldOutSchema = z.object({ keys: z.array(z.string()) })

/** Files of one run folder. */
export interface RunPaths {
  dir: string
  record: string
  history: string
  model: string
  checkpoint: string
  evaluation: string
  /** The keys of the samples the run held out for validation. */
  heldOut: string
}

/** Parses history lines, skipping a torn last line left by a crash. */
function parseHistory(text: string): EpochRecord[] {
  const out: EpochRecord[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    try {
      const parsed = EpochRecordSchema.safeParse(JSON.parse(line))
      if (parsed.success) out.push(parsed.data)
    } catch {
      // A line cut short by a crash: everything before it is intact.
    }
  }
  return out
}

/**
 * Training runs on disk, one folder each under `<dataDir>/runs/<id>/`: `run.json` (written
 * atomically), `history.jsonl` (one epoch per line, appended), `model/` (final model),
 * `checkpoint/` (best so far) and `evaluation.json` (last evaluation). The pretrained model in
 * `<resourcesDir>/models/mnist/` is listed as the read-only run `builtin-mnist`.
 */
export class RunStore {
  private readonly root: string
  private readonly builtinDir: string
  private readonly queue = new KeyedQueue()

  constructor(dataDir: string, resourcesDir: string) {
    this.root = join(dataDir, 'runs')
    this.builtinDir = join(resourcesDir, 'models', 'mnist')
  }

  /**
   * Creates the runs folder, repairs model folders a killed save left aside, and fails every run
   * left unfinished by a previous session.
   */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true })
    for (const name of await readdir(this.root)) {
      if (!isSafeId(name) || name === BUILTIN_RUN_ID) continue
      const paths = this.paths(name)
      for (const dir of [paths.model, paths.checkpoint]) {
        await tidyModelFolder(dir).catch((error: unknown) =>
          console.error(`InkLab: could not repair ${dir}:`, error),
        )
      }
    }
    for (const record of await this.listStored()) {
      if (!ACTIVE_STATES.includes(record.state)) continue
      const paths = this.paths(record.id)
      const kept = await exists(join(paths.checkpoint, 'model.json'))
      await this.save({
        ...record,
        state: 'failed',
        message: kept ? INTERRUPTED_MESSAGE : INTERRUPTED_NO_CHECKPOINT_MESSAGE,
        finishedAt: record.finishedAt ?? new Date().toISOString(),
        hasModel: await this.hasModel(record.id),
      })
    }
  }

  /** The files of run `id`; throws NotFoundError for ids that cannot be folder names. */
  paths(id: string): RunPaths {
    if (!isSafeId(id) || id === BUILTIN_RUN_ID) throw new NotFoundError(`no run with id "${id}"`)
    const dir = join(this.root, id)
    return {
      dir,
      record: join(dir, 'run.json'),
      history: join(dir, 'history.jsonl'),
      model: join(dir, 'model'),
      checkpoint: join(dir, 'checkpoint'),
      evaluation: join(dir, 'evaluation.json'),
      heldOut: join(dir, 'heldout.json'),
    }
  }

  /** Every stored run (not the built-in one), in no particular order. */
  async listStored(): Promise<RunRecord[]> {
    let names: string[]
    try {
      names = await readdir(this.root)
    } catch {
      return []
    }
    const records = await Promise.all(
      names.filter(isSafeId).map((name) => this.read(name).catch(() => null)),
    )
    return records.filter((record): record is RunRecord => record !== null)
  }

  /** Every run including the built-in one, newest first. */
  async list(): Promise<RunRecord[]> {
    const stored = await this.listStored()
    const builtin = await this.builtin()
    const all = builtin ? [...stored, builtin.record] : stored
    return all.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  }

  /** One run's record; throws NotFoundError when missing. */
  async get(id: string): Promise<RunRecord> {
    if (id === BUILTIN_RUN_ID) {
      const builtin = await this.builtin()
      if (builtin) return builtin.record
      throw new NotFoundError('the bundled MNIST model is not installed')
    }
    return this.read(id)
  }

  /** The epoch history of a run. */
  async history(id: string): Promise<EpochRecord[]> {
    if (id === BUILTIN_RUN_ID) return (await this.builtin())?.history ?? []
    try {
      return parseHistory(await readFile(this.paths(id).history, 'utf8'))
    } catch (error) {
      if (error instanceof NotFoundError) throw error
      return []
    }
  }

  /** A run with its history. */
  async detail(id: string): Promise<StoredRun> {
    const [record, history] = await Promise.all([this.get(id), this.history(id)])
    return { ...record, history }
  }

  private async read(id: string): Promise<RunRecord> {
    const raw = await readJsonOrNull(this.paths(id).record)
    const parsed = RunRecordSchema.safeParse(raw)
    if (!parsed.success) throw new NotFoundError(`no run with id "${id}"`)
    return { ...parsed.data, id }
  }

  /** Writes a run's record atomically (creating its folder). */
  save(record: RunRecord): Promise<void> {
    const paths = this.paths(record.id)
    return this.queue.run(record.id, async () => {
      await mkdir(paths.dir, { recursive: true })
      await writeJsonAtomic(paths.record, RunRecordSchema.parse(record))
    })
  }

  /**
   * Rewrites a run's record as `change` makes it from the one on disk, read and written in one
   * queued step, so writes queued before it (a rename, say) are never lost.
   */
  update(id: string, change: (record: RunRecord) => RunRecord): Promise<RunRecord> {
    const paths = this.paths(id)
    return this.queue.run(id, async () => {
      const updated = { ...change(await this.read(id)), id }
      await writeJsonAtomic(paths.record, RunRecordSchema.parse(updated))
      return updated
    })
  }

  /** Merges `metrics` into a run's record: read and rewritten atomically in one queued step. */
  updateMetrics(id: string, metrics: Partial<ModelMetrics>): Promise<RunRecord> {
    return this.update(id, (record) => ({ ...record, metrics: { ...record.metrics, ...metrics } }))
  }

  /** Appends one epoch to a run's history. */
  appendHistory(id: string, epoch: EpochRecord): Promise<void> {
    const paths = this.paths(id)
    return this.queue.run(id, () => appendFile(paths.history, `${JSON.stringify(epoch)}\n`))
  }

  /** Deletes a run folder. */
  async delete(id: string): Promise<void> {
    const paths = this.paths(id)
    await this.queue.run(id, () => rm(paths.dir, { recursive: true, force: true }))
  }

  /** The folder holding a run's model: the final one, else its best checkpoint; null if none. */
  async modelDir(id: string): Promise<string | null> {
    if (id === BUILTIN_RUN_ID) return (await this.builtin()) ? this.builtinDir : null
    const paths = this.paths(id)
    for (const dir of [paths.model, paths.checkpoint]) {
      if ((await exists(join(dir, 'model.json'))) && (await exists(join(dir, 'metadata.json')))) {
        return dir
      }
    }
    return null
  }

  /** True when the run has a loadable model on disk. */
  async hasModel(id: string): Promise<boolean> {
    return (await this.modelDir(id)) !== null
  }

  /** Saves the last evaluation of a run (used by exports). */
  async saveEvaluation(id: string, report: EvaluationReport): Promise<void> {
    if (id === BUILTIN_RUN_ID) return
    const paths = this.paths(id)
    await this.queue.run(id, () => writeJsonAtomic(paths.evaluation, report))
  }

  /** The last evaluation of a run, if any. */
  async loadEvaluation(id: string): Promise<EvaluationReport | null> {
    if (id === BUILTIN_RUN_ID) return null
    const parsed = EvaluationReportSchema.safeParse(await readJsonOrNull(this.paths(id).evaluation))
    return parsed.success ? parsed.data : null
  }

  /** Records the keys of the samples a run held out for validation. */
  async saveHeldOut(id: string, keys: readonly string[]): Promise<void> {
    const paths = this.paths(id)
    await this.queue.run(id, () => writeJsonAtomic(paths.heldOut, { keys }))
  }

  /**
   * The keys a run held out for validation, or null when it recorded none (the bundled model,
   * runs from before they were recorded): its split is then the seeded one.
   */
  async loadHeldOut(id: string): Promise<string[] | null> {
    if (id === BUILTIN_RUN_ID) return null
    const parsed = HeldOutSchema.safeParse(await readJsonOrNull(this.paths(id).heldOut))
    return parsed.success ? parsed.data.keys : null
  }

  /** Resolves when every queued write has finished. */
  idle(): Promise<void> {
    return this.queue.idle()
  }

  /**
   * The bundled model as a run, or null when it is not installed. `metadata.json` is required;
   * `run.json` (config) and `history.jsonl` beside it are used when present; `configRecorded` says
   * whether the settings came from `run.json` (else what the metadata does not say is filled in).
   */
  async builtin(): Promise<{
    record: RunRecord
    history: EpochRecord[]
    configRecorded: boolean
  } | null> {
    const metadata = ModelMetadataSchema.safeParse(
      await readJsonOrNull(join(this.builtinDir, 'metadata.json')),
    )
    if (!metadata.success || !(await exists(join(this.builtinDir, 'model.json')))) return null
    const meta = metadata.data
    const stored = RunRecordSchema.partial().safeParse(
      await readJsonOrNull(join(this.builtinDir, 'run.json')),
    )
    const extra = stored.success ? stored.data : {}
    let history: EpochRecord[] = []
    try {
      history = parseHistory(await readFile(join(this.builtinDir, 'history.jsonl'), 'utf8'))
    } catch {
      history = []
    }
    const config =
      extra.config ??
      TrainConfigSchema.parse({
        preset: meta.preset,
        architecture: meta.architecture,
        epochs: Math.max(1, meta.metrics.epochs),
        batchSize: 128,
        learningRate: 0.001,
      })
    const record: RunRecord = {
      id: BUILTIN_RUN_ID,
      name: meta.name,
      state: 'completed',
      datasetId: BUILTIN_DATASET_ID,
      datasetName: meta.dataset.name,
      preset: meta.preset,
      createdAt: meta.createdAt,
      finishedAt: meta.createdAt,
      hasModel: true,
      builtin: true,
      metrics: meta.metrics,
      ...(extra.backend ? { backend: extra.backend } : {}),
      config,
      labels: meta.labels,
    }
    return { record, history, configRecorded: extra.config !== undefined }
  }
}
