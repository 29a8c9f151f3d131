import type { TrainJob, TrainOutcome } from '@engine/host/protocol'
import { issueText, validateArchitecture } from '@shared/architecture'
import type { FineTuneRequest, TrainRequest } from '@shared/contract'
import { ValidationError } from '@shared/contract/client'
import { errorMessage, fieldIssues } from '@shared/errors'
import { fineTuneClassesProblem, fineTuneConfig, fineTuneMembersProblem } from '@shared/fineTune'
import type { TrainConfig } from '@shared/schemas/training'
import { architectureOf, resolveTrainConfig } from '@shared/trainConfig'
import { trainingProblem } from '@shared/trainability'
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

/** A run about to be recorded: its dataset, its resolved settings and, for a fine-tune, its parent. */
interface RunPlan {
  datasetId: string
  name?: string
  config: TrainConfig
  /**
   * A fine-tune: the run it starts from, the folder of that run's model, and when that run
   * started (what was labelled since are the corrections).
   */
  parent?: { runId: string; name: string; modelDir: string; createdAt: string }
  /** Samples to hold out by key: a fine-tune on its parent's dataset holds out the parent's. */
  heldOut?: string[]
}

/** A start between its check and its record. */
interface Reservation {
  datasetId: string
}

/**
 * Training runs, one at a time, owned here: a run is resolved, checked and recorded on disk
 * before the engine host is asked to execute it; the host reports progress to the run's
 * `LiveRun`, and its answer (or its crash) ends the run. Stop is the call's cancellation.
 */
export class TrainingService {
  private live: LiveRun | null = null
  /** The run that ended last since the services started, until dismissed or another starts. */
  private ended: LiveRun | null = null
  /** A start between its check and its record: set synchronously, so a second start is refused. */
  private reserved: Reservation | null = null

  constructor(private readonly deps: TrainingServiceDeps) {}

  /** The run in progress, if any. */
  get current(): LiveRun | null {
    return this.live
  }

  /**
   * The run a (re)loaded Train view shows: the one in progress, else the one that ended last
   * (its settings, every batch and epoch point, how it ended), until it is dismissed.
   */
  get latest(): LiveRun | null {
    return this.live ?? this.ended
  }

  /** Forgets the ended run `runId` (the Train view was cleared); false when it is not that run. */
  dismiss(runId: string): { ok: boolean } {
    if (this.ended?.id !== runId) return { ok: false }
    this.ended = null
    return { ok: true }
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
  start(request: TrainRequest): Promise<{ runId: string }> {
    return this.launch(request.datasetId, async () => ({
      datasetId: request.datasetId,
      ...(request.name !== undefined ? { name: request.name } : {}),
      config: resolveConfig(request.config),
    }))
  }

  /**
   * Starts a fine-tune of run `request.runId`: a new run that starts from its model's weights,
   * on its dataset as it is now (or another with the same classes), with a short schedule.
   */
  fineTune(request: FineTuneRequest): Promise<{ runId: string }> {
    return this.launch(request.datasetId ?? '', async (reserved) => {
      const plan = await this.planFineTune(request, reserved)
      const modelDir = await this.deps.runs.modelDir(plan.parent.id)
      if (!modelDir) {
        throw new UserError(
          `“${plan.parent.name}” has no model to fine-tune (it stopped before its first checkpoint)`,
        )
      }
      const { parent } = plan
      return {
        datasetId: plan.datasetId,
        name: request.name?.trim() || `${parent.name} · fine-tuned`,
        config: plan.config,
        parent: { runId: parent.id, name: parent.name, modelDir, createdAt: parent.createdAt },
        ...(plan.heldOut ? { heldOut: plan.heldOut } : {}),
      }
    })
  }

  /**
   * The schedule `fineTune` would run for `request` (its epochs and learning rate), for the form
   * that offers it: the same plan, so what the form shows is what runs.
   */
  async fineTuneDefaults(
    request: Pick<FineTuneRequest, 'runId' | 'datasetId'>,
  ): Promise<{ epochs: number; learningRate: number }> {
    const { config } = await this.planFineTune(request)
    return { epochs: config.epochs, learningRate: config.learningRate }
  }

  /**
   * A fine-tune's parent, dataset, settings and held-out samples; throws what stops it. The
   * dataset is reserved in `reserved` (when starting) as soon as it is known.
   */
  private async planFineTune(request: FineTuneRequest, reserved?: Reservation) {
    const parent = await this.deps.runs.get(request.runId)
    const ensemble = fineTuneMembersProblem(parent.config.members)
    if (ensemble) throw new UserError(`cannot fine-tune “${parent.name}”: ${ensemble}`)
    const datasetId = request.datasetId ?? parent.datasetId
    if (reserved) reserved.datasetId = datasetId
    const dataset = await this.deps.datasets.describe(datasetId)
    const problem = fineTuneClassesProblem(parent.labels, dataset.name, dataset.labels)
    if (problem) throw new UserError(`cannot fine-tune “${parent.name}”: ${problem}`)
    // On the parent's own dataset, the samples it held out stay out: the before-and-after
    // compares the two models on images neither trained on.
    const heldOut =
      datasetId === parent.datasetId ? await this.deps.runs.loadHeldOut(parent.id) : null
    let config: TrainConfig
    try {
      config = fineTuneConfig(parent.config, {
        // Built-in MNIST before its first load: its training split's size.
        trainSize: dataset.summary?.trainSize ?? 60_000,
        heldOut: heldOut?.length ?? 0,
        ...(request.epochs !== undefined ? { epochs: request.epochs } : {}),
        ...(request.learningRate !== undefined ? { learningRate: request.learningRate } : {}),
      })
    } catch (error) {
      if (!(error instanceof ZodError)) throw error
      throw new UserError(`cannot fine-tune “${parent.name}”: its settings are invalid`)
    }
    return { parent, datasetId, config, heldOut }
  }

  /**
   * Refuses a second run, reserves the dataset while `plan` resolves the run and `prepare`
   * records it, then has the host execute it.
   */
  private async launch(
    datasetId: string,
    plan: (reserved: Reservation) => Promise<RunPlan>,
  ): Promise<{ runId: string }> {
    if (this.live || this.reserved) {
      throw new UserError('a run is already in progress; stop it before starting another')
    }
    const reserved: Reservation = { datasetId }
    this.reserved = reserved
    let run: LiveRun
    let job: TrainJob
    let parent: RunPlan['parent']
    try {
      const planned = await plan(reserved)
      parent = planned.parent
      ;({ run, job } = await this.prepare(planned))
    } finally {
      this.reserved = null
    }
    this.live = run
    this.ended = null
    run.announce()
    void this.execute(run, job, parent)
    return { runId: run.id }
  }

  /** Everything before the host is asked: the dataset, the checks and the record. */
  private async prepare(plan: RunPlan): Promise<{ run: LiveRun; job: TrainJob }> {
    const { config } = plan
    const dataset = await this.deps.datasets.describe(plan.datasetId)
    // Built-in MNIST before its first load has no summary: it is big enough anyway.
    const tooSmall = dataset.summary && trainingProblem(dataset.summary, config.validationSplit)
    if (tooSmall) throw new UserError(tooSmall)
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
    const name = plan.name?.trim() || `${dataset.name} · ${config.preset}`
    const record: RunRecord = {
      id: runId,
      name,
      state: 'starting',
      datasetId: plan.datasetId,
      datasetName: dataset.name,
      preset: config.preset,
      createdAt: new Date().toISOString(),
      hasModel: false,
      builtin: false,
      config,
      labels: [...dataset.labels],
      ...(plan.parent
        ? {
            fineTunedFrom: {
              runId: plan.parent.runId,
              name: plan.parent.name,
              ...(plan.heldOut ? { sameHeldOut: true } : {}),
            },
          }
        : {}),
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
        if (this.live !== run) return
        this.live = null
        this.ended = run
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
      ...(plan.parent
        ? { initialModelDir: plan.parent.modelDir, correctionsSince: plan.parent.createdAt }
        : {}),
      ...(plan.heldOut ? { heldOut: plan.heldOut } : {}),
    }
    return { run, job }
  }

  /** Has the host execute the run; its answer, or its failure, ends it. */
  private async execute(run: LiveRun, job: TrainJob, parent?: RunPlan['parent']): Promise<void> {
    try {
      const outcome = await this.deps.engine.call('training.run', job, {
        signal: run.controller.signal,
        onProgress: (report) => run.report(report),
      })
      if (outcome.validationKeys.length) {
        await this.deps.runs
          .saveHeldOut(run.id, outcome.validationKeys)
          .catch((error: unknown) =>
            console.error(
              `InkLab: run ${run.id} could not record its validation samples:`,
              errorMessage(error),
            ),
          )
      }
      if (parent) await this.compareWithParent(run, job, parent.modelDir, outcome)
      await run.finish(outcome)
    } catch (error) {
      await run.fail(error)
    }
  }

  /**
   * A fine-tune's before: the parent's model on the held-out split the new model was just
   * evaluated on, kept in the run's record. A failure costs the comparison, not the run.
   */
  private async compareWithParent(
    run: LiveRun,
    job: TrainJob,
    parentModelDir: string,
    outcome: TrainOutcome,
  ): Promise<void> {
    const from = run.record.fineTunedFrom
    if (!from || !outcome.evaluation || !outcome.modelSaved) return
    const { split } = outcome.evaluation
    const { limit, validationSplit, seed } = job.config
    try {
      const report = await this.deps.engine.call('evaluation.run', {
        modelDir: parentModelDir,
        dataset: job.dataset,
        split: {
          split,
          settings: { limit, validationSplit, seed },
          ...(split === 'validation' ? { heldOut: outcome.validationKeys } : {}),
        },
      })
      run.record.fineTunedFrom = {
        ...from,
        evaluation: { split, accuracy: report.accuracy, loss: report.loss, count: report.count },
      }
    } catch (error) {
      console.warn(`InkLab: could not evaluate the parent of run ${run.id}:`, errorMessage(error))
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
