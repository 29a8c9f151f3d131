import { isAbsolute } from 'node:path'

import type { AppInfo, Routes, RouteName, RouteOutput } from '@shared/contract'
import { exists, makeDirs } from '@shared/node/files'
import type { z } from 'zod'

import { CollectionService } from './collection'
import { DatasetStore } from './datasetStore'
import { DatasetService } from './datasets'
import { EngineClient } from './engineClient'
import { EventHub } from './events'
import type { HostTransportFactory } from './hostTransport'
import { ModelsService } from './models'
import { RunStore } from './runStore'
import { TrainingService } from './training'
import { UploadService } from './uploads'

/** Who is calling, and how the call is abandoned. */
export interface RequestContext {
  /** The Electron window over IPC, or a browser over HTTP (serve mode). */
  transport: 'ipc' | 'http'
  /** Aborts when the caller went away (an HTTP request closed): long work may stop. */
  signal?: AbortSignal
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
  /** Folders uploaded from a browser (serve mode streams their files here). */
  uploads: UploadService
  /** Resolves when the data folder is ready (runs recovered); rejects when it is unusable. */
  ready: Promise<void>
  /** Stops the engine host and waits for pending writes. */
  close(): Promise<void>
}

/** Set from package.json by the build (electron.vite.config.ts); absent when run from source. */
declare const __INKLAB_VERSION__: string | undefined

/** The app version when the caller does not give one. */
function buildVersion(): string {
  return typeof __INKLAB_VERSION__ === 'string'
    ? __INKLAB_VERSION__
    : (process.env.npm_package_version ?? '0.0.0')
}

/**
 * Builds the services behind every route: datasets, training runs and models, each owned by one
 * service; the engine host for the heavy work; and the event stream. Nothing here imports
 * Electron: it runs in the Electron main process and in plain Node (serve mode) alike. The
 * transports call the handlers through `dispatch`, which waits for `ready`.
 */
export function createServices(options: ServicesOptions): Services {
  const version = options.version ?? buildVersion()
  const events = new EventHub()
  const runs = new RunStore(options.dataDir, options.resourcesDir)
  const datasetStore = new DatasetStore(options.dataDir)
  const uploads = new UploadService(options.dataDir)
  const engine = new EngineClient({
    createTransport: options.transport,
    onStatus: (status) => events.emit('engine.status', status),
  })
  const ready = (async () => {
    await makeDirs(options.dataDir)
    await Promise.all([runs.init(), datasetStore.init(), uploads.init()])
  })()
  ready.catch(() => undefined)

  const datasets: DatasetService = new DatasetService({
    store: datasetStore,
    uploads,
    engine,
    events,
    inUse: (datasetId) => training.usesDataset(datasetId),
  })
  const collection = new CollectionService({ store: datasetStore, datasets, engine })
  const training = new TrainingService({ runs, datasets, engine, events, version })
  const models = new ModelsService({
    runs,
    datasets,
    training,
    engine,
    dataDir: options.dataDir,
  })
  const { desktop } = options

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
        nativeDialogs: ctx.transport === 'ipc' && desktop !== undefined,
      }
    },
    'dialog.open': async (input, ctx) =>
      ctx.transport === 'ipc' && desktop
        ? { paths: await desktop.openDialog(input) }
        : { paths: null },
    'shell.reveal': async ({ path }, ctx) => {
      if (ctx.transport !== 'ipc' || !desktop) return { ok: false }
      if (!isAbsolute(path) || !(await exists(path))) return { ok: false }
      desktop.reveal(path)
      return { ok: true }
    },

    'dataset.list': () => datasets.list(),
    'dataset.loadBuiltin': () => datasets.loadBuiltin(),
    'dataset.openIdx': (input) => datasets.import('dataset.openIdx', input),
    'dataset.importFolder': (input) => datasets.import('dataset.importFolder', input),
    'dataset.cancelImport': async () => datasets.cancelImport(),
    'dataset.samples': (input) => datasets.samples(input),
    'dataset.delete': ({ datasetId }) => datasets.delete(datasetId),
    'dataset.find': (input) => datasets.find(input),
    'dataset.uploadStart': (description) => uploads.start(description),
    'dataset.uploadDiscard': ({ uploadId }) => uploads.discard(uploadId),
    'dataset.importUpload': (input) => datasets.importUpload(input),
    'dataset.rename': ({ datasetId, name }) => datasets.rename(datasetId, name),

    'collection.create': ({ name }) => collection.create(name),
    'collection.add': (input) => collection.add(input),
    'collection.undo': ({ datasetId }) => collection.undo(datasetId),
    'collection.correct': ({ datasetId, key, correction }) =>
      collection.correct(datasetId, key, correction),

    'training.start': (input) => training.start(input),
    'training.fineTune': (input) => training.fineTune(input),
    'training.fineTuneDefaults': (input) => training.fineTuneDefaults(input),
    'training.pause': ({ runId }) => training.pause(runId),
    'training.resume': ({ runId }) => training.resume(runId),
    'training.stop': async ({ runId }) => training.stop(runId),
    'training.current': () => models.current(),
    'training.dismiss': async ({ runId }) => training.dismiss(runId),

    'runs.list': () => models.list(),
    'runs.get': ({ runId }) => models.get(runId),
    'runs.rename': ({ runId, name }) => models.rename(runId, name),
    'runs.delete': ({ runId }) => models.delete(runId),
    'runs.export': ({ runId, destination, formats }) => models.export(runId, destination, formats),

    'evaluation.run': ({ runId, datasetId }, ctx) => models.evaluate(runId, datasetId, ctx.signal),
    'evaluation.last': ({ runId }) => models.lastEvaluation(runId),
    'evaluation.samples': ({ runId, datasetId, indices }) =>
      models.evaluationSamples(runId, indices, datasetId),

    'models.activate': ({ runId }) => models.activate(runId),
    'draw.classify': (image) => models.classifyImage(image),
    'draw.classifyFile': ({ path }) => models.classifyFile(path),
    'draw.classifyUpload': ({ name, data }) => models.classifyUpload(name, data),
  }

  return {
    handlers,
    events,
    engine,
    uploads,
    ready,
    async close() {
      await engine.close()
      await runs.idle()
    },
  }
}
