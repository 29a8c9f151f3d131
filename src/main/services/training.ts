import type { TrainJob } from '@engine/host/protocol'
import { issueText, validateArchitecture } from '@shared/architecture'
import type { TrainRequest } from '@shared/contract'
import { ValidationError } from '@shared/contract/client'
import { fieldIssues } from '@shared/errors'
import type { TrainConfig } from '@shared/schemas/training'
import { architectureOf, resolveTrainConfig } from '@shared/trainConfig'
import { ZodError } from 'zod'

import type { DatasetService } from './datasets'
import type { EngineClient } from './engineClient'
import { UserError } from './errors'
import type { EventHub } from './events'
import { newId } from './fsUtil'
import { LiveRun } from './liveRun'
import type { RunRecord, RunStore } from './runStore'

/** What `TrainingService` works with. */
export interface TrainingServiceDeps {
  runs: RunStore
  datasets: DatasetService
  engine: EngineClient
  events: EventHub
  /** Written into model metadata. */
  version: string
}

/** The config a request describes, its problems as field issues when it has any. */
function resolveConfig(config: TrainRequest['config']): TrainConfig {
  try {
    return resolveTrainConfig(config)
  } catch (error) {
    if (!(error instanceof ZodError)) throw error
    const issues = fieldIssues(error.issues).map((issue) => ({
      ...issue,
      path: `config.${issue.path}`,
    }))
    throw new ValidationError(`invalid training settings: ${issues[0]?.message}`, issues)
  }
}

/**
 * Training runs, one at a time, owned here: a run is resolved, checked and recorded on disk
 * before the engine host is asked to execute it; the host reports progress to the run's
 * `LiveRun`, and its answer (or its crash) ends the run. Stop is the call's cancellation.
 */
export class TrainingService {
  private live: LiveRun | null = null
  /** A start between its check and its record: set synchronously, so a second start is refused. */
  private reserved: { datasetId: string } | null = null

  constructor(private readonly deps: TrainingServiceDeps) {}

  /** The run in progress, if any. */
  get current(): LiveRun | null {
    return this.live
  }

  /** True when run `runId` is the one in progress. */
  owns(runId: string): boolean {
    return this.live?.id === runId
  }

  /** True while a run trains on (or is starting on) dataset `datasetId`. */
  usesDataset(datasetId: string): boolean {
    return this.live?.datasetId === datasetId || this.reserved?.datasetId === datasetId
  }

  /** Starts a run: resolves and checks its settings, writes its record, then asks the host. */
  async start(request: TrainRequest): Promise<{ runId: string }> {
    if (this.live || this.reserved) {
      throw new UserError('a run is already in progress; stop it before starting another')
    }
    this.reserved = { datasetId: request.datasetId }
    let run: LiveRun
    let job: TrainJob
    try {
      ;({ run, job } = await this.prepare(request))
    } finally {
      this.reserved = null
    }
    this.live = run
    run.announce()
    void this.execute(run, job)
    return { runId: run.id }
  }

  /** Everything before the host is asked: the config, the dataset, the checks and the record. */
  private async prepare(request: TrainRequest): Promise<{ run: LiveRun; job: TrainJob }> {
    const config = resolveConfig(request.config)
    const dataset = await this.deps.datasets.describe(request.datasetId)
    const check = validateArchitecture(architectureOf(config), dataset.labels.length)
    if (!check.ok) {
      throw new ValidationError(
        `invalid architecture: ${check.errors.map(issueText).join('; ')}`,
        check.errors.map((issue) => ({
          path:
            issue.layer === null
              ? 'config.architecture'
              : `config.architecture.layers.${issue.layer}`,
          message: issueText(issue),
        })),
      )
    }
    const runId = newId('run-')
    const paths = this.deps.runs.paths(runId)
    const name = request.name?.trim() || `${dataset.name} · ${config.preset}`
    const record: RunRecord = {
      id: runId,
      name,
      state: 'starting',
      datasetId: request.datasetId,
      datasetName: dataset.name,
      preset: config.preset,
      createdAt: new Date().toISOString(),
      hasModel: false,
      builtin: false,
      config,
      labels: [...dataset.labels],
    }
    // The record exists before the host trains anything: a run is never invisible.
    try {
      await this.deps.runs.save(record)
    } catch (error) {
      await this.deps.runs.delete(runId).catch(() => undefined)
      throw error
    }
    const run = new LiveRun(record, {
      runs: this.deps.runs,
      events: this.deps.events,
      onEnded: () => {
        if (this.live === run) this.live = null
      },
    })
    const job: TrainJob = {
      runId,
      name,
      dataset: dataset.ref,
      config,
      modelDir: paths.model,
      checkpointDir: paths.checkpoint,
      inklabVersion: this.deps.version,
    }
    return { run, job }
  }

  /** Has the host execute the run; its answer, or its failure, ends it. */
  private async execute(run: LiveRun, job: TrainJob): Promise<void> {
    try {
      const outcome = await this.deps.engine.call('training.run', job, {
        signal: run.controller.signal,
        onProgress: (report) => run.report(report),
      })
      await run.finish(outcome)
    } catch (error) {
      await run.fail(error)
    }
  }

  async pause(runId: string): Promise<{ ok: boolean }> {
    if (!this.owns(runId) || !this.deps.engine.started) return { ok: false }
    return this.deps.engine.call('training.pause', { runId })
  }

  async resume(runId: string): Promise<{ ok: boolean }> {
    if (!this.owns(runId) || !this.deps.engine.started) return { ok: false }
    return this.deps.engine.call('training.resume', { runId })
  }

  /** Stops the run within a batch (its best checkpoint is kept): the host's call is cancelled. */
  stop(runId: string): { ok: boolean } {
    const run = this.live
    if (!run || run.id !== runId) return { ok: false }
    run.controller.abort()
    return { ok: true }
  }
}
