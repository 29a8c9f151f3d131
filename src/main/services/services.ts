import { mkdir, readdir, stat } from 'node:fs/promises'
import { basename, isAbsolute, join, relative } from 'node:path'

import type { DatasetRef, EvalSplit, HostEvent, TrainOutcome } from '@engine/host/protocol'
import type { AppInfo, Routes, RouteName, RouteOutput } from '@shared/contract'
import type { DatasetSummary } from '@shared/schemas/dataset'
import type { EvaluationReport } from '@shared/schemas/evaluation'
import type { ExportFormat } from '@shared/schemas/export'
import type { RunDetail, RunSummary } from '@shared/schemas/run'
import { RunSummarySchema, type EpochRecord } from '@shared/schemas/run'
import type { z } from 'zod'

import { describeExit, EngineClient, type EngineStatus } from './engineClient'
import { DatasetStore } from './datasetStore'
import { EventHub } from './events'
import { exists, newId, readJsonOrNull, slugify, writeFileAtomic, writeJsonAtomic } from './fsUtil'
import { exportModelFormats } from './modelExport'
import type { HostTransportFactory } from './hostTransport'
import {
  accuracyChartSvg,
  confusionCsv,
  historyCsv,
  lossChartSvg,
  perClassCsv,
  reportHtml,
} from './report'
import { BUILTIN_DATASET_ID, BUILTIN_RUN_ID, RunStore, type RunRecord } from './runStore'

/** Who is calling: the Electron window over IPC, or a browser over HTTP (serve mode). */
export interface RequestContext {
  transport: 'ipc' | 'http'
}

/** Native integrations only the Electron main process has. */
export interface DesktopIntegration {
  openDialog(input: z.output<Routes['dialog.open']['input']>): Promise<string[] | null>
  reveal(path: string): void
}

/** The handler of one route: validated input in, contract output out. */
export type RouteHandler<N extends RouteName> = (
  input: z.output<Routes[N]['input']>,
  ctx: RequestContext,
) => Promise<RouteOutput<N>>

/** One handler per route of the contract; both transports call these. */
export type Handlers = { [N in RouteName]: RouteHandler<N> }

/** Options of `createServices`. */
export interface ServicesOptions {
  /** Runs, datasets and settings live here (Electron: `userData`). */
  dataDir: string
  /** Bundled resources (`models/mnist/` is the pretrained model). */
  resourcesDir: string
  /** Starts an engine host process (again after a crash). */
  transport: HostTransportFactory
  /** The app version shown in `app.info` and written into model metadata. */
  version?: string
  /** Native dialogs and file manager (Electron only). */
  desktop?: DesktopIntegration
}

/** The services: route handlers, their event stream, and the engine host they drive. */
export interface Services {
  handlers: Handlers
  events: EventHub
  engine: EngineClient
  /** Resolves when the data folder is ready (runs recovered); rejects when it is unusable. */
  ready: Promise<void>
  /** Stops the engine host and waits for pending writes. */
  close(): Promise<void>
}

/** `settings.json` in the data folder. */
interface Settings {
  activeModel?: string
}

/**
 * The run in progress, reserved synchronously when `training.start` passes its guard (so a second
 * start is refused). Events that arrive before its record exists are kept and replayed.
 */
interface CurrentRun {
  runId: string
  /** Known from the reservation on, so the dataset cannot be deleted while the run starts. */
  datasetId: string
  record: RunRecord | null
  history: EpochRecord[]
  buffered: HostEvent[]
}

/** A request the user can fix (bad state, missing thing): the message is meant for them. */
export class UserError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UserError'
  }
}

/** Set from package.json by the build (electron.vite.config.ts); absent when run from source. */
declare const __INKLAB_VERSION__: string | undefined

/** The app version when the caller does not give one. */
function buildVersion(): string {
  return typeof __INKLAB_VERSION__ === 'string'
    ? __INKLAB_VERSION__
    : (process.env.npm_package_version ?? '0.0.0')
}

function now(): string {
  return new Date().toISOString()
}

function summaryOf(record: RunRecord, hasModel: boolean, active: boolean): RunSummary {
  return RunSummarySchema.parse({ ...record, hasModel, active })
}

/** Files under `dir`, relative to `base`, sorted. */
async function listFiles(dir: string, base: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)))
    else out.push(relative(base, full))
  }
  return out.sort()
}

/**
 * Builds the services behind every route: datasets and runs on disk, the engine host for the heavy
 * work, and the event stream. Nothing here imports Electron: it runs in the Electron main process
 * and in plain Node (serve mode) alike.
 */
export function createServices(options: ServicesOptions): Services {
  const version = options.version ?? buildVersion()
  const events = new EventHub()
  const runs = new RunStore(options.dataDir, options.resourcesDir)
  const datasets = new DatasetStore(options.dataDir)
  const settingsFile = join(options.dataDir, 'settings.json')
  let current: CurrentRun | null = null

  const engine = new EngineClient({
    createTransport: options.transport,
    onEvent: (event) => onHostEvent(event),
    onStatus: (status: EngineStatus) => events.emit('engine.status', status),
    onCrash: (exit) => void onHostCrash(describeExit(exit)),
  })

  const ready = (async () => {
    await mkdir(options.dataDir, { recursive: true })
    await Promise.all([runs.init(), datasets.init()])
  })()
  ready.catch(() => undefined)

  // ---- settings and helpers -------------------------------------------------------------------

  async function readSettings(): Promise<Settings> {
    const raw = await readJsonOrNull(settingsFile)
    if (!raw || typeof raw !== 'object') return {}
    const active = (raw as { activeModel?: unknown }).activeModel
    return typeof active === 'string' ? { activeModel: active } : {}
  }

  async function writeSettings(settings: Settings): Promise<void> {
    await writeJsonAtomic(settingsFile, settings)
  }

  /** The run whose model the drawing pad uses: the chosen one, else the bundled model. */
  async function activeRunId(): Promise<string | null> {
    const { activeModel } = await readSettings()
    if (activeModel && (await runs.get(activeModel).catch(() => null))) {
      if (await runs.modelDir(activeModel).catch(() => null)) return activeModel
    }
    return (await runs.builtin()) ? BUILTIN_RUN_ID : null
  }

  async function requireModelDir(runId: string): Promise<string> {
    const dir = await runs.modelDir(runId)
    if (!dir)
      throw new UserError('this run has no model yet (it was stopped before its first checkpoint)')
    return dir
  }

  async function datasetRef(datasetId: string): Promise<DatasetRef> {
    if (datasetId === BUILTIN_DATASET_ID) return { id: datasetId, kind: 'builtin', name: 'mnist' }
    return datasets.ref(await datasets.get(datasetId))
  }

  async function datasetRefOfRun(
    run: RunRecord,
  ): Promise<{ ref: DatasetRef; summary: DatasetSummary | null }> {
    if (run.datasetId === BUILTIN_DATASET_ID || run.builtin) {
      return { ref: { id: BUILTIN_DATASET_ID, kind: 'builtin', name: 'mnist' }, summary: null }
    }
    const summary = await datasets.get(run.datasetId).catch(() => null)
    if (!summary) {
      throw new UserError(
        `the dataset "${run.datasetName}" of this run was deleted; re-import it to evaluate`,
      )
    }
    return { ref: datasets.ref(summary), summary }
  }

  /** The split an evaluation of `run` uses: the dataset's test split, else the run's validation split. */
  function evalSplitOf(run: RunRecord, summary: DatasetSummary | null): EvalSplit {
    if (!summary || summary.testSize > 0) return { kind: 'test' }
    if (run.config.validationSplit <= 0) {
      throw new UserError(
        'this dataset has no test split and the run kept no validation split to evaluate on',
      )
    }
    return {
      kind: 'validation',
      fraction: run.config.validationSplit,
      seed: run.config.seed,
      limit: run.config.limit,
    }
  }

  async function evaluate(runId: string): Promise<EvaluationReport> {
    const run = await runs.get(runId)
    const modelDir = await requireModelDir(runId)
    const { ref, summary } = await datasetRefOfRun(run)
    const split = evalSplitOf(run, summary)
    const evaluated = await engine.call('evaluation.run', { modelDir, dataset: ref, split })
    const report: EvaluationReport = { ...evaluated, split: split.kind }
    await runs.saveEvaluation(runId, report)
    // The bundled model is read-only, and a run still training will record its own metrics.
    if (runId !== BUILTIN_RUN_ID && current?.runId !== runId) {
      await runs.updateMetrics(
        runId,
        split.kind === 'test'
          ? { testAccuracy: report.accuracy, testLoss: report.loss }
          : { valAccuracy: report.accuracy, valLoss: report.loss },
      )
    }
    return report
  }

  // ---- the run in progress --------------------------------------------------------------------

  function persist(record: RunRecord): void {
    runs
      .save(record)
      .catch((error: unknown) => console.error('InkLab: could not save a run:', error))
  }

  function onHostEvent(event: HostEvent): void {
    switch (event.name) {
      case 'dataset.progress':
        events.emit('dataset.progress', event.payload)
        return
      case 'backend':
        return
      case 'training.progress':
      case 'training.state':
      case 'training.finished': {
        const run = current
        if (!run || run.runId !== event.payload.runId) return
        if (!run.record) {
          run.buffered.push(event)
          return
        }
        onRunEvent(run, run.record, event)
        return
      }
    }
  }

  function onRunEvent(run: CurrentRun, record: RunRecord, event: HostEvent): void {
    if (event.name === 'training.progress') {
      const { progress } = event.payload
      if (progress.kind === 'epoch') {
        run.history.push(progress)
        runs
          .appendHistory(run.runId, progress)
          .catch((error: unknown) =>
            console.error('InkLab: could not append the run history:', error),
          )
        record.metrics = {
          ...record.metrics,
          epochs: progress.epoch + 1,
          seconds: progress.elapsedSeconds,
          samplesPerSecond: progress.samplesPerSecond,
          ...(progress.valAccuracy !== undefined ? { valAccuracy: progress.valAccuracy } : {}),
          ...(progress.valLoss !== undefined ? { valLoss: progress.valLoss } : {}),
        }
        if (progress.improved) record.hasModel = true
        persist(record)
      }
      events.emit('training.progress', event.payload)
    } else if (event.name === 'training.state') {
      record.state = event.payload.state
      if (event.payload.message) record.message = event.payload.message
      persist(record)
      events.emit('training.state', event.payload)
    } else if (event.name === 'training.finished') {
      void finishRun(run, record, event.payload)
    }
  }

  async function finishRun(
    run: CurrentRun,
    record: RunRecord,
    outcome: TrainOutcome,
  ): Promise<void> {
    if (current === run) current = null
    const finishedAt = now()
    const metrics = { ...record.metrics, ...outcome.metrics }
    const hasModel = await runs.hasModel(run.runId).catch(() => false)
    // Merged into the record on disk: a rename may have landed since `current` was cleared.
    await runs
      .update(run.runId, (stored) => {
        const finished: RunRecord = {
          ...record,
          name: stored.name,
          state: outcome.state,
          finishedAt,
          metrics,
          hasModel,
        }
        if (outcome.message) finished.message = outcome.message
        else delete finished.message
        return finished
      })
      .catch((error: unknown) => console.error('InkLab: could not save a run:', error))
    events.emit('training.state', {
      runId: run.runId,
      state: outcome.state,
      ...(outcome.message ? { message: outcome.message } : {}),
    })
  }

  async function onHostCrash(reason: string): Promise<void> {
    const run = current
    if (!run) return
    current = null
    if (!run.record) {
      await runs.delete(run.runId).catch(() => undefined)
      return
    }
    const hasModel = await runs.hasModel(run.runId).catch(() => false)
    const message = hasModel
      ? `${reason} during training; the best checkpoint was kept as this run's model`
      : `${reason} during training, before any checkpoint was saved`
    const record = run.record
    const finishedAt = now()
    await runs
      .update(run.runId, (stored) => ({
        ...record,
        name: stored.name,
        state: 'failed',
        message,
        finishedAt,
        hasModel,
      }))
      .catch((error: unknown) => console.error('InkLab: could not save a run:', error))
    events.emit('training.state', { runId: run.runId, state: 'failed', message })
  }

  async function startTraining(
    input: z.output<Routes['training.start']['input']>,
  ): Promise<{ runId: string }> {
    if (current)
      throw new UserError('a run is already in progress; stop it before starting another')
    // Reserve before the first await: a concurrent start must see this run and be refused.
    const runId = newId('run-')
    const paths = runs.paths(runId)
    const run: CurrentRun = {
      runId,
      datasetId: input.datasetId,
      record: null,
      history: [],
      buffered: [],
    }
    current = run
    try {
      const dataset =
        input.datasetId === BUILTIN_DATASET_ID
          ? await datasets.get(BUILTIN_DATASET_ID).catch(() => null)
          : await datasets.get(input.datasetId)
      const ref = await datasetRef(input.datasetId)
      const preset = input.config.preset
      const datasetName = dataset?.name ?? 'MNIST'
      const name = input.name?.trim() || `${datasetName} · ${preset}`
      await mkdir(paths.dir, { recursive: true })
      const accepted = await engine.call('training.start', {
        runId,
        name,
        dataset: ref,
        config: input.config,
        modelDir: paths.model,
        checkpointDir: paths.checkpoint,
        inklabVersion: version,
      })
      const record: RunRecord = {
        id: runId,
        name,
        state: 'starting',
        datasetId: input.datasetId,
        datasetName: accepted.datasetName,
        preset: accepted.config.preset,
        createdAt: now(),
        hasModel: false,
        builtin: false,
        backend: accepted.backend,
        config: accepted.config,
        labels: accepted.labels,
      }
      await runs.save(record)
      if (current !== run) {
        // The host crashed before the record existed: record the failure now.
        await runs.save({
          ...record,
          state: 'failed',
          message: 'the engine process stopped as the run started',
          finishedAt: now(),
        })
        throw new UserError('the engine process stopped as the run started')
      }
      run.record = record
      events.emit('training.state', { runId, state: 'starting' })
      for (const event of run.buffered.splice(0)) onRunEvent(run, record, event)
      return { runId }
    } catch (error) {
      if (current === run) current = null
      if (!run.record) await runs.delete(runId).catch(() => undefined)
      throw error
    }
  }

  async function controlRun(
    method: 'training.pause' | 'training.resume' | 'training.stop',
    runId: string,
  ): Promise<{ ok: boolean }> {
    if (!current || current.runId !== runId || !engine.started) return { ok: false }
    return engine.call(method, { runId })
  }

  // ---- datasets -------------------------------------------------------------------------------

  async function importInto(
    method: 'dataset.openIdx' | 'dataset.importFolder',
    input: { path: string; name?: string },
  ): Promise<DatasetSummary> {
    if (!isAbsolute(input.path)) throw new UserError(`"${input.path}" is not an absolute path`)
    const info = await stat(input.path).catch(() => null)
    if (!info?.isDirectory()) throw new UserError(`"${input.path}" is not a folder`)
    const id = newId(`${slugify(input.name ?? basename(input.path), 'dataset')}-`)
    try {
      const summary = await engine.call(method, {
        id,
        path: input.path,
        ...(input.name ? { name: input.name } : {}),
        saveDir: datasets.dataDir(id),
      })
      await datasets.save({ ...summary, id })
      return { ...summary, id }
    } catch (error) {
      await datasets.remove(id).catch(() => undefined)
      throw error
    }
  }

  // ---- exports --------------------------------------------------------------------------------

  /** Shortens a dataset source that older versions wrote with its full local path. */
  async function exportRun(
    runId: string,
    destination: string,
    formats: readonly ExportFormat[],
  ): Promise<{ path: string; files: string[] }> {
    if (!isAbsolute(destination)) throw new UserError(`"${destination}" is not an absolute path`)
    const detail = await runs.detail(runId)
    const modelDir = await runs.modelDir(runId)
    let evaluation = await runs.loadEvaluation(runId)
    if (!evaluation && modelDir) evaluation = await evaluate(runId).catch(() => null)
    await mkdir(destination, { recursive: true })
    const base = `inklab-${slugify(detail.name, 'run')}-${runId}`
    let target = join(destination, base)
    for (let n = 2; await exists(target); n++) target = join(destination, `${base}-${n}`)
    await mkdir(target)
    if (modelDir) await exportModelFormats(engine, modelDir, target, formats)
    const report = join(target, 'report')
    const loss = lossChartSvg(detail.history)
    const accuracy = accuracyChartSvg(detail.history)
    const metrics = {
      run: {
        id: detail.id,
        name: detail.name,
        state: detail.state,
        message: detail.message,
        createdAt: detail.createdAt,
        finishedAt: detail.finishedAt,
      },
      dataset: { id: detail.datasetId, name: detail.datasetName },
      config: detail.config,
      metrics: detail.metrics ?? {},
      backend: detail.backend ?? null,
      evaluation: evaluation
        ? {
            split: evaluation.split ?? 'test',
            count: evaluation.count,
            accuracy: evaluation.accuracy,
            loss: evaluation.loss,
            macroF1: evaluation.macroF1,
            perClass: evaluation.perClass,
          }
        : null,
    }
    await writeJsonAtomic(join(report, 'metrics.json'), metrics)
    await writeFileAtomic(join(report, 'history.csv'), historyCsv(detail.history))
    await writeFileAtomic(join(report, 'loss.svg'), loss)
    await writeFileAtomic(join(report, 'accuracy.svg'), accuracy)
    if (evaluation) {
      await writeFileAtomic(join(report, 'per-class.csv'), perClassCsv(evaluation))
      await writeFileAtomic(join(report, 'confusion-matrix.csv'), confusionCsv(evaluation))
    }
    await writeFileAtomic(
      join(report, 'report.html'),
      reportHtml(detail, evaluation, { loss, accuracy }),
    )
    return { path: target, files: await listFiles(target, target) }
  }

  // ---- the handlers ---------------------------------------------------------------------------

  /** `record` as the routes list it; `activeId` saves looking the active run up once per run. */
  async function runSummary(record: RunRecord, activeId?: string | null): Promise<RunSummary> {
    const active = (activeId === undefined ? await activeRunId() : activeId) === record.id
    return summaryOf(record, await runs.hasModel(record.id).catch(() => false), active)
  }

  const handlers: Handlers = {
    'app.info': async (_input, ctx): Promise<AppInfo> => {
      const status = engine.status
      return {
        version,
        transport: ctx.transport,
        platform: process.platform,
        dataDir: options.dataDir,
        backend: status.backend,
        ...(status.error ? { engineError: status.error } : {}),
        nativeDialogs: ctx.transport === 'ipc' && options.desktop !== undefined,
      }
    },
    'dialog.open': async (input, ctx) => {
      if (ctx.transport !== 'ipc' || !options.desktop) return { paths: null }
      return { paths: await options.desktop.openDialog(input) }
    },
    'shell.reveal': async (input, ctx) => {
      if (ctx.transport !== 'ipc' || !options.desktop) return { ok: false }
      if (!isAbsolute(input.path) || !(await exists(input.path))) return { ok: false }
      options.desktop.reveal(input.path)
      return { ok: true }
    },

    'dataset.list': async () => datasets.list(),
    'dataset.loadBuiltin': async () => {
      const summary = await engine.call('dataset.loadBuiltin', { id: BUILTIN_DATASET_ID })
      const stored = { ...summary, id: BUILTIN_DATASET_ID }
      await datasets.save(stored)
      return stored
    },
    'dataset.openIdx': async (input) => importInto('dataset.openIdx', input),
    'dataset.importFolder': async (input) => importInto('dataset.importFolder', input),
    'dataset.cancelImport': async () =>
      engine.started ? engine.call('dataset.cancelImport', {}) : { cancelled: false },
    'dataset.samples': async (input) =>
      engine.call('dataset.samples', {
        dataset: await datasetRef(input.datasetId),
        split: input.split,
        ...(input.label !== undefined ? { label: input.label } : {}),
        offset: input.offset,
        count: input.count,
      }),
    'dataset.delete': async ({ datasetId }) => {
      const summary = await datasets.get(datasetId)
      // The reservation knows the dataset before the run's record exists (while it starts).
      if (current?.datasetId === datasetId) {
        throw new UserError(
          'a run is training on this dataset; stop it before deleting the dataset',
        )
      }
      await datasets.remove(summary.id)
      if (engine.started)
        await engine.call('dataset.forget', { id: summary.id }).catch(() => undefined)
      return { ok: true }
    },

    'training.start': async (input) => startTraining(input),
    'training.pause': async ({ runId }) => controlRun('training.pause', runId),
    'training.resume': async ({ runId }) => controlRun('training.resume', runId),
    'training.stop': async ({ runId }) => controlRun('training.stop', runId),
    'training.current': async (): Promise<RunDetail | null> => {
      const record = current?.record
      if (!current || !record) return null
      return {
        ...record,
        hasModel: await runs.hasModel(record.id),
        active: (await activeRunId()) === record.id,
        history: [...current.history],
      }
    },

    'runs.list': async () => {
      const [records, activeId] = await Promise.all([runs.list(), activeRunId()])
      return Promise.all(records.map((record) => runSummary(record, activeId)))
    },
    'runs.get': async ({ runId }) => {
      const active = (await activeRunId()) === runId
      if (current?.record && current.runId === runId) {
        return { ...current.record, active, history: [...current.history] }
      }
      const detail = await runs.detail(runId)
      return { ...detail, hasModel: await runs.hasModel(runId), active }
    },
    'runs.rename': async ({ runId, name }) => {
      if (runId === BUILTIN_RUN_ID) throw new UserError('the bundled model cannot be renamed')
      if (current?.record && current.runId === runId) {
        current.record.name = name
        await runs.save(current.record)
        return runSummary(current.record)
      }
      // Read and written in one queued step, so it cannot undo a finishing run's final record.
      return runSummary(await runs.update(runId, (record) => ({ ...record, name })))
    },
    'runs.delete': async ({ runId }) => {
      if (runId === BUILTIN_RUN_ID) throw new UserError('the bundled model cannot be deleted')
      if (current?.runId === runId)
        throw new UserError('this run is training; stop it before deleting it')
      await runs.get(runId)
      await runs.delete(runId)
      const settings = await readSettings()
      if (settings.activeModel === runId) await writeSettings({})
      return { ok: true }
    },
    'runs.export': async ({ runId, destination, formats }) =>
      exportRun(runId, destination, formats),

    'evaluation.run': async ({ runId }) => evaluate(runId),
    'evaluation.samples': async ({ runId, indices }) => {
      const run = await runs.get(runId)
      const { ref, summary } = await datasetRefOfRun(run)
      return engine.call('evaluation.samples', {
        dataset: ref,
        split: evalSplitOf(run, summary),
        indices,
      })
    },

    'models.activate': async ({ runId }) => {
      const record = await runs.get(runId)
      await requireModelDir(runId)
      await writeSettings({ activeModel: runId })
      return runSummary(record)
    },
    'draw.classify': async (image) => {
      const modelId = await activeRunId()
      if (!modelId) throw new UserError('no model is active: train one, or activate one in Models')
      const result = await engine.call('classify.image', {
        modelDir: await requireModelDir(modelId),
        image,
      })
      return { ...result, modelId }
    },
    'draw.classifyFile': async ({ path }) => {
      const modelId = await activeRunId()
      if (!modelId) throw new UserError('no model is active: train one, or activate one in Models')
      if (!isAbsolute(path)) throw new UserError(`"${path}" is not an absolute path`)
      const result = await engine.call('classify.file', {
        modelDir: await requireModelDir(modelId),
        path,
      })
      return { ...result, modelId }
    },
  }

  // Every handler waits for the data folder to be ready.
  for (const name of Object.keys(handlers) as RouteName[]) {
    const handler = handlers[name] as RouteHandler<RouteName>
    ;(handlers as Record<RouteName, RouteHandler<RouteName>>)[name] = async (input, ctx) => {
      await ready
      return handler(input as never, ctx)
    }
  }

  return {
    handlers,
    events,
    engine,
    ready,
    async close() {
      await engine.close()
      await runs.idle()
    },
  }
}
