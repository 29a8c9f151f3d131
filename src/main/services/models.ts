import { isAbsolute, join } from 'node:path'

import type { DatasetRef, EvalSplit, HostClassification } from '@engine/host/protocol'
import { readJsonOrNull, writeJsonAtomic } from '@shared/node/files'
import type { GrayImagePayload } from '@shared/schemas/dataset'
import type { EvaluationReport, SampleImage } from '@shared/schemas'
import type { ExportFormat } from '@shared/schemas/export'
import { RunSummarySchema, type RunDetail, type RunSummary } from '@shared/schemas/run'

import type { DatasetService } from './datasets'
import type { EngineClient } from './engineClient'
import { NotFoundError, UserError } from './errors'
import { exportRun } from './exportRun'
import { BUILTIN_DATASET_ID, BUILTIN_RUN_ID, type RunRecord, type RunStore } from './runStore'
import type { TrainingService } from './training'

/** `settings.json` in the data folder. */
interface Settings {
  activeModel?: string
}

/** What `ModelsService` works with. */
export interface ModelsServiceDeps {
  runs: RunStore
  datasets: DatasetService
  training: TrainingService
  engine: EngineClient
  dataDir: string
}

/**
 * Runs and the models they produced: listing, renaming, deleting and exporting them, choosing the
 * one the drawing pad uses, evaluating them and classifying with them. The run in progress is
 * the training service's; everything here asks it first.
 */
export class ModelsService {
  private readonly settingsFile: string

  constructor(private readonly deps: ModelsServiceDeps) {
    this.settingsFile = join(deps.dataDir, 'settings.json')
  }

  private async readSettings(): Promise<Settings> {
    const raw = await readJsonOrNull(this.settingsFile)
    const active = (raw as { activeModel?: unknown } | null)?.activeModel
    return typeof active === 'string' ? { activeModel: active } : {}
  }

  /** The run whose model the drawing pad uses: the chosen one, else the bundled model. */
  async activeRunId(): Promise<string | null> {
    const { runs } = this.deps
    const { activeModel } = await this.readSettings()
    if (activeModel && (await runs.get(activeModel).catch(() => null))) {
      if (await runs.modelDir(activeModel).catch(() => null)) return activeModel
    }
    return (await runs.builtin()) ? BUILTIN_RUN_ID : null
  }

  private async requireModelDir(runId: string): Promise<string> {
    const dir = await this.deps.runs.modelDir(runId)
    if (!dir)
      throw new UserError('this run has no model yet (it was stopped before its first checkpoint)')
    return dir
  }

  /** `record` as the routes list it; `activeId` saves looking the active run up once per run. */
  private async summary(record: RunRecord, activeId?: string | null): Promise<RunSummary> {
    const active = (activeId === undefined ? await this.activeRunId() : activeId) === record.id
    const hasModel = await this.deps.runs.hasModel(record.id).catch(() => false)
    // The bundled model's settings are listed only when it ships them, never filled-in guesses.
    const { config, ...rest } = record
    const recorded =
      record.id !== BUILTIN_RUN_ID || (await this.deps.runs.builtin())?.configRecorded
    return RunSummarySchema.parse({ ...rest, ...(recorded ? { config } : {}), hasModel, active })
  }

  async list(): Promise<RunSummary[]> {
    const [records, activeId] = await Promise.all([this.deps.runs.list(), this.activeRunId()])
    return Promise.all(records.map((record) => this.summary(record, activeId)))
  }

  /**
   * The run in progress, whole (settings, full history, per-batch points), else the one that
   * ended last since the services started; null when there is neither.
   */
  async current(): Promise<RunDetail | null> {
    const run = this.deps.training.latest
    if (!run) return null
    return {
      ...run.snapshot(),
      hasModel: await this.deps.runs.hasModel(run.id),
      active: (await this.activeRunId()) === run.id,
    }
  }

  async get(runId: string): Promise<RunDetail> {
    const active = (await this.activeRunId()) === runId
    const run = this.deps.training.current
    if (run?.id === runId) return { ...run.snapshot(), active }
    const detail = await this.deps.runs.detail(runId)
    return { ...detail, hasModel: await this.deps.runs.hasModel(runId), active }
  }

  async rename(runId: string, name: string): Promise<RunSummary> {
    if (runId === BUILTIN_RUN_ID) throw new UserError('the bundled model cannot be renamed')
    const run = this.deps.training.current
    if (run?.id === runId) {
      await run.rename(name)
      return this.summary(run.record)
    }
    // Read and written in one queued step, so it cannot undo another write to the run.
    return this.summary(await this.deps.runs.update(runId, (record) => ({ ...record, name })))
  }

  async delete(runId: string): Promise<{ ok: boolean }> {
    if (runId === BUILTIN_RUN_ID) throw new UserError('the bundled model cannot be deleted')
    if (this.deps.training.owns(runId))
      throw new UserError('this run is training; stop it before deleting it')
    await this.deps.runs.get(runId)
    await this.deps.runs.delete(runId)
    if ((await this.readSettings()).activeModel === runId)
      await writeJsonAtomic(this.settingsFile, {})
    return { ok: true }
  }

  async activate(runId: string): Promise<RunSummary> {
    const record = await this.deps.runs.get(runId)
    await this.requireModelDir(runId)
    await writeJsonAtomic(this.settingsFile, { activeModel: runId } satisfies Settings)
    return this.summary(record)
  }

  /** The last evaluation of a run, as it was saved, or null. */
  lastEvaluation(runId: string): Promise<EvaluationReport | null> {
    return this.deps.runs.loadEvaluation(runId)
  }

  /**
   * The data an evaluation of `run` uses, named: its own dataset's test split, else the
   * validation split it held out; or another dataset with the same classes (its test split, else
   * all its images, which the run never trained on).
   */
  private async evaluationData(
    run: RunRecord,
    datasetId?: string,
  ): Promise<{ dataset: DatasetRef; split: EvalSplit; name: { id: string; name: string } }> {
    const settings = {
      limit: run.config.limit,
      validationSplit: run.config.validationSplit,
      seed: run.config.seed,
    }
    const ownId = run.builtin ? BUILTIN_DATASET_ID : run.datasetId
    const id = datasetId ?? ownId
    const info = await this.deps.datasets.describe(id).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error
      throw new UserError(
        id === ownId
          ? `the dataset "${run.datasetName}" of this run was deleted; re-import it to evaluate`
          : `no dataset with id "${id}"`,
      )
    })
    const name = { id, name: info.name }
    if (id !== ownId) {
      if (info.labels.join('\u0000') !== run.labels.join('\u0000')) {
        throw new UserError(
          `"${info.name}" has other classes (${info.labels.join(' ')}) than the model ` +
            `(${run.labels.join(' ')}); evaluate it on a dataset with the same classes`,
        )
      }
      const whole = { limit: 0, validationSplit: 0, seed: settings.seed }
      return !info.summary || info.summary.testSize > 0
        ? { dataset: info.ref, split: { split: 'test', settings: whole }, name }
        : { dataset: info.ref, split: { split: 'train', settings: whole }, name }
    }
    // Held-out data: the test split, else the validation split the run held out (said so).
    if (id === BUILTIN_DATASET_ID || !info.summary || info.summary.testSize > 0) {
      return { dataset: info.ref, split: { split: 'test', settings }, name }
    }
    if (run.config.validationSplit <= 0) {
      throw new UserError(
        'this dataset has no test split and the run kept no validation split to evaluate on',
      )
    }
    const heldOut = await this.deps.runs.loadHeldOut(run.id)
    return {
      dataset: info.ref,
      split: { split: 'validation', settings, ...(heldOut ? { heldOut } : {}) },
      name,
    }
  }

  /**
   * Evaluates a run's model on held-out data (of its own dataset, or of `datasetId`); abandoned
   * when `signal` aborts.
   */
  async evaluate(
    runId: string,
    datasetId?: string,
    signal?: AbortSignal,
  ): Promise<EvaluationReport> {
    const { runs } = this.deps
    const run = await runs.get(runId)
    const modelDir = await this.requireModelDir(runId)
    const { dataset, split, name } = await this.evaluationData(run, datasetId)
    const evaluated = await this.deps.engine.call(
      'evaluation.run',
      { modelDir, dataset, split },
      signal ? { signal } : {},
    )
    const report: EvaluationReport = { ...evaluated, split: split.split, dataset: name }
    await runs.saveEvaluation(runId, report)
    // The run's own figures come from its own dataset only. The bundled model is read-only, and
    // a run still training records its own metrics.
    const own = name.id === (run.builtin ? BUILTIN_DATASET_ID : run.datasetId)
    if (own && runId !== BUILTIN_RUN_ID && !this.deps.training.owns(runId)) {
      const summary = {
        split: split.split,
        accuracy: report.accuracy,
        loss: report.loss,
        count: report.count,
      }
      await runs.updateMetrics(
        runId,
        split.split === 'test'
          ? { testAccuracy: report.accuracy, testLoss: report.loss, evaluation: summary }
          : { valAccuracy: report.accuracy, valLoss: report.loss, evaluation: summary },
      )
    }
    return report
  }

  async evaluationSamples(
    runId: string,
    indices: number[],
    datasetId?: string,
  ): Promise<SampleImage[]> {
    const run = await this.deps.runs.get(runId)
    const { dataset, split } = await this.evaluationData(run, datasetId)
    return this.deps.engine.call('evaluation.samples', { dataset, split, indices })
  }

  /**
   * Exports a run's model in each of `formats` and a training report into a new folder under
   * `destination`.
   */
  async export(
    runId: string,
    destination: string,
    formats: readonly ExportFormat[],
  ): Promise<{ path: string; files: string[] }> {
    if (!isAbsolute(destination)) throw new UserError(`"${destination}" is not an absolute path`)
    const run = await this.deps.runs.detail(runId)
    const modelDir = await this.deps.runs.modelDir(runId)
    let evaluation = await this.deps.runs.loadEvaluation(runId)
    if (!evaluation && modelDir) evaluation = await this.evaluate(runId).catch(() => null)
    return exportRun({ run, modelDir, evaluation, formats }, destination, {
      engine: this.deps.engine,
    })
  }

  private async activeModelDir(): Promise<{ modelId: string; modelDir: string }> {
    const modelId = await this.activeRunId()
    if (!modelId) throw new UserError('no model is active: train one, or activate one in Models')
    return { modelId, modelDir: await this.requireModelDir(modelId) }
  }

  async classifyImage(image: GrayImagePayload): Promise<HostClassification & { modelId: string }> {
    const { modelId, modelDir } = await this.activeModelDir()
    return { ...(await this.deps.engine.call('classify.image', { modelDir, image })), modelId }
  }

  /** Classifies an image file a browser sent (its bytes, base64) with the active model. */
  async classifyUpload(
    name: string,
    data: string,
  ): Promise<HostClassification & { modelId: string }> {
    const { modelId, modelDir } = await this.activeModelDir()
    return {
      ...(await this.deps.engine.call('classify.bytes', { modelDir, name, data })),
      modelId,
    }
  }

  async classifyFile(path: string): Promise<HostClassification & { modelId: string }> {
    if (!isAbsolute(path)) throw new UserError(`"${path}" is not an absolute path`)
    const { modelId, modelDir } = await this.activeModelDir()
    return { ...(await this.deps.engine.call('classify.file', { modelDir, path })), modelId }
  }
}
