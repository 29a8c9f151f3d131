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
    return RunSummarySchema.parse({ ...record, hasModel, active })
  }

  async list(): Promise<RunSummary[]> {
    const [records, activeId] = await Promise.all([this.deps.runs.list(), this.activeRunId()])
    return Promise.all(records.map((record) => this.summary(record, activeId)))
  }

  /** The run in progress, whole (settings, full history, per-batch points), or null. */
  async current(): Promise<RunDetail | null> {
    const run = this.deps.training.current
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

  /** The dataset a run was trained on, and the split its evaluation uses. */
  private async evaluationData(run: RunRecord): Promise<{ dataset: DatasetRef; split: EvalSplit }> {
    const settings = {
      limit: run.config.limit,
      validationSplit: run.config.validationSplit,
      seed: run.config.seed,
    }
    if (run.datasetId === BUILTIN_DATASET_ID || run.builtin) {
      return {
        dataset: (await this.deps.datasets.describe(BUILTIN_DATASET_ID)).ref,
        split: { split: 'test', settings },
      }
    }
    const info = await this.deps.datasets.describe(run.datasetId).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error
      throw new UserError(
        `the dataset "${run.datasetName}" of this run was deleted; re-import it to evaluate`,
      )
    })
    // Held-out data: the test split, else the validation split the run held out (said so).
    if (!info.summary || info.summary.testSize > 0) {
      return { dataset: info.ref, split: { split: 'test', settings } }
    }
    if (run.config.validationSplit <= 0) {
      throw new UserError(
        'this dataset has no test split and the run kept no validation split to evaluate on',
      )
    }
    return { dataset: info.ref, split: { split: 'validation', settings } }
  }

  /** Evaluates a run's model on its held-out data; abandoned when `signal` aborts. */
  async evaluate(runId: string, signal?: AbortSignal): Promise<EvaluationReport> {
    const { runs } = this.deps
    const run = await runs.get(runId)
    const modelDir = await this.requireModelDir(runId)
    const { dataset, split } = await this.evaluationData(run)
    const evaluated = await this.deps.engine.call(
      'evaluation.run',
      { modelDir, dataset, split },
      signal ? { signal } : {},
    )
    const report: EvaluationReport = { ...evaluated, split: split.split }
    await runs.saveEvaluation(runId, report)
    // The bundled model is read-only, and a run still training records its own metrics.
    if (runId !== BUILTIN_RUN_ID && !this.deps.training.owns(runId)) {
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

  async evaluationSamples(runId: string, indices: number[]): Promise<SampleImage[]> {
    const { dataset, split } = await this.evaluationData(await this.deps.runs.get(runId))
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

  async classifyFile(path: string): Promise<HostClassification & { modelId: string }> {
    if (!isAbsolute(path)) throw new UserError(`"${path}" is not an absolute path`)
    const { modelId, modelDir } = await this.activeModelDir()
    return { ...(await this.deps.engine.call('classify.file', { modelDir, path })), modelId }
  }
}
