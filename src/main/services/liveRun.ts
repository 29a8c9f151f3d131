import type { TrainOutcome, TrainReport } from '@engine/host/protocol'
import { errorMessage } from '@shared/errors'
import type { BatchPoint, EpochRecord, RunDetail, RunState } from '@shared/schemas/run'

import { EngineStoppedError } from './engineClient'
import type { EventHub } from './events'
import type { RunRecord, RunStore } from './runStore'

/** What a live run works with. */
export interface LiveRunDeps {
  runs: RunStore
  events: EventHub
  /** Called once the run has ended and its final record is written, before the final event. */
  onEnded: () => void
}

/** The payload of the final `training.state` event. */
type FinalState = { runId: string; state: RunState; message?: string }

function now(): string {
  return new Date().toISOString()
}

/**
 * The run in progress, and its one owner: its record (settings, state, metrics, backend), its full
 * history (every epoch and every reported batch) and its cancellation live in this object, and
 * `snapshot()` serves them whole to a renderer that (re)connects. The engine host executes the run
 * and reports to it; the disk and the event stream follow from it. A failed write is logged and
 * never loses the run: it stays here, visible and stoppable.
 */
export class LiveRun {
  /** Aborting it cancels the host's `training.run` call: the run stops within a batch. */
  readonly controller = new AbortController()
  readonly history: EpochRecord[] = []
  readonly batches: BatchPoint[] = []
  private ended = false

  constructor(
    readonly record: RunRecord,
    private readonly deps: LiveRunDeps,
  ) {}

  get id(): string {
    return this.record.id
  }

  get datasetId(): string {
    return this.record.datasetId
  }

  get state(): RunState {
    return this.record.state
  }

  /** The run as the routes show it (the caller adds `hasModel` and `active`). */
  snapshot(): Omit<RunDetail, 'active'> {
    return {
      ...this.record,
      history: [...this.history],
      batches: [...this.batches],
    }
  }

  /** Announces the run (its record was written before it was asked of the host). */
  announce(): void {
    this.deps.events.emit('training.state', { runId: this.id, state: this.record.state })
  }

  /** Applies one report of the engine host. */
  report(report: TrainReport): void {
    if (this.ended) return
    switch (report.kind) {
      case 'started':
        this.record.backend = report.backend
        this.setState('running')
        return
      case 'paused':
        this.setState('paused')
        return
      case 'resumed':
        this.setState('running')
        return
      case 'batch':
        this.batches.push({ step: report.step, loss: report.loss, accuracy: report.accuracy })
        if (this.record.state === 'starting') this.setState('running')
        this.deps.events.emit('training.progress', { runId: this.id, progress: report })
        return
      case 'epoch':
        this.history.push(report)
        this.record.metrics = {
          ...this.record.metrics,
          epochs: report.epoch + 1,
          seconds: report.elapsedSeconds,
          samplesPerSecond: report.samplesPerSecond,
          ...(report.valAccuracy !== undefined ? { valAccuracy: report.valAccuracy } : {}),
          ...(report.valLoss !== undefined ? { valLoss: report.valLoss } : {}),
        }
        if (report.improved) this.record.hasModel = true
        this.deps.runs
          .appendHistory(this.id, report)
          .catch((error: unknown) => this.logWriteFailure('its history', error))
        this.persist()
        this.deps.events.emit('training.progress', { runId: this.id, progress: report })
        return
    }
  }

  /** Renames the run (it is written at once; the final record keeps the name). */
  async rename(name: string): Promise<void> {
    this.record.name = name
    await this.deps.runs.save(this.record)
  }

  /** Records how the run ended, from the host's answer. */
  async finish(outcome: TrainOutcome): Promise<void> {
    const hasModel =
      outcome.modelSaved || (await this.deps.runs.hasModel(this.id).catch(() => false))
    await this.end({
      state: outcome.state,
      ...(outcome.message ? { message: outcome.message } : {}),
      metrics: outcome.metrics,
      hasModel,
    })
  }

  /** Records a run the host could not finish: it crashed, or refused or failed the run. */
  async fail(error: unknown): Promise<void> {
    const hasModel = await this.deps.runs.hasModel(this.id).catch(() => false)
    let message: string
    if (error instanceof EngineStoppedError) {
      message = hasModel
        ? `${error.reason} during training; the best checkpoint was kept as this run's model`
        : `${error.reason} during training, before any checkpoint was saved`
    } else {
      if ((error as Error | null)?.name === 'Error') {
        console.error('InkLab: a training run failed:', error)
      }
      message = `training failed: ${errorMessage(error)}`
    }
    await this.end({ state: 'failed', message, metrics: {}, hasModel })
  }

  private async end(final: {
    state: RunState
    message?: string
    metrics: RunRecord['metrics']
    hasModel: boolean
  }): Promise<void> {
    if (this.ended) return
    this.ended = true
    const record = this.record
    record.state = final.state
    record.finishedAt = now()
    record.metrics = { ...record.metrics, ...final.metrics }
    record.hasModel = final.hasModel
    if (final.message) record.message = final.message
    else delete record.message
    // Written in full from this object: a rename that landed meanwhile is part of it.
    await this.deps.runs
      .save(record)
      .catch((error: unknown) => this.logWriteFailure('its final state', error))
    const event: FinalState = {
      runId: this.id,
      state: final.state,
      ...(final.message ? { message: final.message } : {}),
    }
    this.deps.onEnded()
    this.deps.events.emit('training.state', event)
  }

  private setState(state: RunState): void {
    if (this.record.state === state) return
    this.record.state = state
    this.persist()
    this.deps.events.emit('training.state', { runId: this.id, state })
  }

  private persist(): void {
    this.deps.runs.save(this.record).catch((error: unknown) => this.logWriteFailure('it', error))
  }

  private logWriteFailure(what: string, error: unknown): void {
    console.error(
      `InkLab: run ${this.id} goes on, but ${what} could not be saved:`,
      errorMessage(error),
    )
  }
}
