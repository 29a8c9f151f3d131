import { mkdtemp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { loadSavedDataset, saveDataset } from '@engine/data/datasetStore'
import { importFolder } from '@engine/data/folderImport'
import { preprocess } from '@engine/data/preprocess'
import type { EngineApi } from '@engine/host/engineApi'
import type { TrainJob } from '@engine/host/protocol'
import { ROUTES, type RouteName, type RouteOutput } from '@shared/contract'
import { fineTuneEpochs } from '@shared/fineTune'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { dispatch } from '../../../src/main/services/dispatch'
import type { HostTransportFactory } from '../../../src/main/services/hostTransport'
import type { AppEvent } from '../../../src/main/services/events'
import { INTERRUPTED_MESSAGE, RunStore } from '../../../src/main/services/runStore'
import { createServices, type Services } from '../../../src/main/services/services'
import { createFakeEngine, writeModelFolder } from './helpers/fakeEngine'
import { inProcessHosts, type InProcessHosts } from './helpers/inProcessTransport'
import { testMetadata } from '../helpers/modelFixtures'

let dataDir: string
let resourcesDir: string
let workDir: string
const opened: Services[] = []

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'inklab-services-'))
  dataDir = join(workDir, 'data')
  resourcesDir = join(workDir, 'resources')
  await mkdir(resourcesDir, { recursive: true })
})

afterEach(async () => {
  vi.restoreAllMocks()
  for (const services of opened.splice(0)) await services.close()
  await rm(workDir, { recursive: true, force: true })
})

function open(hosts: InProcessHosts, extra: Partial<Parameters<typeof createServices>[0]> = {}) {
  const services = createServices({
    dataDir,
    resourcesDir,
    transport: hosts.factory,
    version: '9.9.9',
    ...extra,
  })
  opened.push(services)
  const events: AppEvent[] = []
  services.events.on((event) => events.push(event))
  /** Calls a route through dispatch, checks the output against the contract, returns it. */
  async function call<N extends RouteName>(
    name: N,
    input: unknown,
    signal?: AbortSignal,
  ): Promise<RouteOutput<N>> {
    const result = await dispatch(services, name, input, {
      transport: 'http',
      ...(signal ? { signal } : {}),
    })
    if (!result.ok)
      throw Object.assign(new Error(result.error.message), { name: result.error.name })
    ROUTES[name].output.parse(result.result)
    return result.result as RouteOutput<N>
  }
  return { services, events, call }
}

/** A fine-tune's default schedule is dozens of short epochs: on a busy machine, over 5 s. */
const FINE_TUNE_WAIT_MS = 30_000

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Installs a bundled MNIST model in the resources folder (the `builtin-mnist` run). */
async function bundledModel(): Promise<void> {
  await writeModelFolder(join(resourcesDir, 'models', 'mnist'), {
    format: 'inklab-model',
    formatVersion: 1,
    name: 'MNIST (bundled)',
    labels: ['0', '1', '2'],
    preprocessing: {
      size: 28,
      fitBox: 20,
      centerBy: 'mass',
      inkPolarity: 'light-on-dark',
      scale: 'divide-255',
      transposed: false,
    },
    dataset: { name: 'MNIST', source: 'builtin:mnist', trainSize: 60000, testSize: 10000 },
    preset: 'accurate',
    metrics: { testAccuracy: 0.995, epochs: 12, seconds: 600, samplesPerSecond: 1000 },
    backend: 'native',
    createdAt: '2026-01-01T00:00:00.000Z',
    inklabVersion: '0.1.0',
  })
}

/** Imports the folder dataset and trains one run on it to the end. */
async function completedRun(
  session: ReturnType<typeof open>,
  config: Record<string, unknown> = { preset: 'fast', epochs: 1 },
): Promise<{ datasetId: string; runId: string }> {
  const dataset = await session.call('dataset.importFolder', { path: await folderDataset() })
  const { runId } = await session.call('training.start', { datasetId: dataset.id, config })
  await until(() =>
    session.events.some(
      (e) =>
        e.name === 'training.state' && e.payload.runId === runId && e.payload.state === 'completed',
    ),
  )
  return { datasetId: dataset.id, runId }
}

/** The fake engine with the real folder import and stored copies (images of `imageFolder`). */
function realDataEngine(): EngineApi & { calls: string[] } {
  return { ...createFakeEngine(), importFolder, saveDataset, loadSavedDataset, preprocess }
}

/** A PNG with a black bar `width` px wide on white: each width preprocesses to other pixels. */
async function writeImage(file: string, width: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  await sharp({ create: { width: 28, height: 28, channels: 3, background: '#fff' } })
    .composite([
      {
        input: { create: { width, height: 20, channels: 3, background: '#000' } },
        left: 4,
        top: 4,
      },
    ])
    .png()
    .toFile(file)
}

/** An image folder holding `files` (class/name.png), each image unlike the others. */
async function imageFolder(files: string[]): Promise<string> {
  const dir = join(workDir, 'images')
  for (const [i, file] of files.entries()) await writeImage(join(dir, file), 5 + 2 * i)
  return dir
}

/** Every file under `dir` with its bytes and modification time. */
async function folderState(dir: string): Promise<Record<string, string>> {
  const state: Record<string, string> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const file = join(entry.parentPath, entry.name)
    const info = await stat(file)
    state[file] = `${(await readFile(file)).toString('base64')} ${info.mtimeMs}`
  }
  return state
}

async function folderDataset(): Promise<string> {
  const dir = join(workDir, 'digits')
  for (const label of ['a', 'b', 'c']) {
    await mkdir(join(dir, label), { recursive: true })
    await writeFile(join(dir, label, '1.png'), 'x')
  }
  return dir
}

describe('services with an in-process engine host', () => {
  it('reports app info per transport', async () => {
    const { services, call } = open(inProcessHosts(createFakeEngine()))
    await services.engine.start()
    const info = await call('app.info', {})
    expect(info).toMatchObject({ version: '9.9.9', transport: 'http', nativeDialogs: false })
    expect(info.backend?.name).toBe('cpu')
    const ipc = await dispatch(services, 'app.info', {}, { transport: 'ipc' })
    expect(ipc.ok && (ipc.result as { transport: string }).transport).toBe('ipc')
    expect(await call('dialog.open', { kind: 'folder' })).toEqual({ paths: null })
    expect(await call('shell.reveal', { path: dataDir })).toEqual({ ok: false })
  })

  it('uses the desktop integration over IPC only', async () => {
    const revealed: string[] = []
    const { services } = open(inProcessHosts(createFakeEngine()), {
      desktop: { openDialog: async () => ['/picked'], reveal: (p) => revealed.push(p) },
    })
    const ipc = { transport: 'ipc' } as const
    expect(await dispatch(services, 'dialog.open', { kind: 'files' }, ipc)).toEqual({
      ok: true,
      result: { paths: ['/picked'] },
    })
    await dispatch(services, 'shell.reveal', { path: dataDir }, ipc)
    expect(revealed).toEqual([dataDir])
    const http = await dispatch(services, 'dialog.open', { kind: 'files' }, { transport: 'http' })
    expect(http).toEqual({ ok: true, result: { paths: null } })
  })

  it('imports a folder, lists it, serves samples, and keeps it across restarts', async () => {
    const hosts = inProcessHosts(createFakeEngine())
    const { call, events } = open(hosts)
    const summary = await call('dataset.importFolder', {
      path: await folderDataset(),
      name: 'Mine',
    })
    expect(summary).toMatchObject({ name: 'Mine', trainSize: 30, testSize: 9 })
    expect(events.some((e) => e.name === 'dataset.progress')).toBe(true)
    expect((await call('dataset.list', {})).map((d) => d.id)).toEqual([summary.id])
    const samples = await call('dataset.samples', { datasetId: summary.id, label: 2, count: 3 })
    expect(samples).toHaveLength(3)
    expect(samples.every((s) => s.label === 2)).toBe(true)
    expect(Buffer.from(samples[0].pixels, 'base64')).toHaveLength(784)

    // A new services instance (new host) reads the dataset back from disk.
    const again = open(inProcessHosts(createFakeEngine()))
    expect((await again.call('dataset.list', {})).map((d) => d.name)).toEqual(['Mine'])
    const more = await again.call('dataset.samples', { datasetId: summary.id, offset: 1, count: 2 })
    expect(more.map((s) => s.index)).toEqual([1, 2])
  })

  it('renames, finds, refreshes in place and deletes datasets', async () => {
    const { call } = open(inProcessHosts(createFakeEngine()))
    const path = await folderDataset()
    expect(await call('dataset.find', { path })).toBeNull()
    const first = await call('dataset.importFolder', { path })
    // The same folder, however it is written, is found: the UI offers to reuse or refresh it.
    expect((await call('dataset.find', { path: `${path}/` }))?.id).toBe(first.id)
    expect((await call('dataset.find', { path: join(path, '..', 'digits') }))?.id).toBe(first.id)
    expect(await call('dataset.find', { path: 'relative' })).toBeNull()

    const renamed = await call('dataset.rename', { datasetId: first.id, name: '  Digits  ' })
    expect(renamed).toMatchObject({ id: first.id, name: 'Digits' })
    expect((await call('dataset.list', {})).map((d) => d.name)).toEqual(['Digits'])
    await expect(call('dataset.rename', { datasetId: first.id, name: '   ' })).rejects.toThrow(
      /needs a name/,
    )
    await expect(
      call('dataset.rename', { datasetId: 'builtin-mnist', name: 'Mine' }),
    ).rejects.toThrow(/cannot be renamed/)

    // A refresh re-reads the folder into the same id, keeping the name, and leaves no copy.
    await writeFile(join(path, 'a', '2.png'), 'y')
    const refreshed = await call('dataset.importFolder', {
      path,
      test: { fraction: 0.3 },
      replace: first.id,
    })
    expect(refreshed).toMatchObject({ id: first.id, name: 'Digits' })
    expect((await call('dataset.list', {})).map((d) => d.id)).toEqual([first.id])
    expect(await call('dataset.samples', { datasetId: first.id, count: 1 })).toHaveLength(1)
    const { readdir } = await import('node:fs/promises')
    expect(await readdir(join(dataDir, 'datasets'))).toEqual([first.id])
    await expect(
      call('dataset.importFolder', { path, replace: 'no-such-dataset' }),
    ).rejects.toThrow(/no dataset/)

    expect(await call('dataset.delete', { datasetId: first.id })).toEqual({ ok: true })
    expect(await call('dataset.list', {})).toEqual([])
    expect(await call('dataset.find', { path })).toBeNull()
  })

  it('rejects relative and missing paths, unknown datasets and path-like ids', async () => {
    const { call } = open(inProcessHosts(createFakeEngine()))
    await expect(call('dataset.importFolder', { path: 'relative/dir' })).rejects.toThrow(/absolute/)
    await expect(call('dataset.openIdx', { path: join(workDir, 'missing') })).rejects.toThrow(
      /not a folder/,
    )
    await expect(call('dataset.samples', { datasetId: 'nope' })).rejects.toThrow(/no dataset/)
    await expect(call('runs.get', { runId: '../../etc' })).rejects.toMatchObject({
      name: 'NotFoundError',
    })
    await expect(call('dataset.delete', { datasetId: '../x' })).rejects.toMatchObject({
      name: 'NotFoundError',
    })
  })

  it('trains a run: events, history on disk, model, evaluation, classification, export', async () => {
    const session = open(inProcessHosts(createFakeEngine()))
    const { call, events } = session
    const { runId } = await completedRun(session, { preset: 'fast', epochs: 2 })
    const states = events.filter((e) => e.name === 'training.state').map((e) => e.payload.state)
    expect(states).toEqual(['starting', 'running', 'completed'])
    const progress = events.filter((e) => e.name === 'training.progress')
    expect(progress.some((e) => e.payload.progress.kind === 'batch')).toBe(true)
    expect(progress.filter((e) => e.payload.progress.kind === 'epoch')).toHaveLength(2)

    const detail = await call('runs.get', { runId })
    expect(detail).toMatchObject({ state: 'completed', hasModel: true, preset: 'fast' })
    expect(detail.config.epochs).toBe(2)
    expect(detail.history.map((h) => h.epoch)).toEqual([0, 1])
    expect(detail.metrics?.testAccuracy).toBe(1)
    const runDir = join(dataDir, 'runs', runId)
    const onDisk = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as {
      history?: unknown
    }
    expect(onDisk.history).toBeUndefined()
    expect((await readFile(join(runDir, 'history.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(
      2,
    )
    // After the run, a reloaded Train view still finds it whole, until it is dismissed.
    const last = await call('training.current', {})
    expect(last).toMatchObject({ id: runId, state: 'completed', hasModel: true })
    expect(last?.config.epochs).toBe(2)
    expect(last?.history).toHaveLength(2)
    expect(last?.batches?.length).toBeGreaterThan(0)
    expect(await call('training.dismiss', { runId: 'run-other' })).toEqual({ ok: false })
    expect(await call('training.dismiss', { runId })).toEqual({ ok: true })
    expect(await call('training.current', {})).toBeNull()

    // A run without test metrics (trained before they were recorded) gets them from evaluation.
    const runFile = join(runDir, 'run.json')
    const stored = JSON.parse(await readFile(runFile, 'utf8')) as {
      metrics: Record<string, number>
    }
    delete stored.metrics.testAccuracy
    delete stored.metrics.testLoss
    await writeFile(runFile, JSON.stringify(stored))
    expect((await call('runs.get', { runId })).metrics?.testAccuracy).toBeUndefined()
    expect(await call('evaluation.last', { runId })).toBeNull()
    const report = await call('evaluation.run', { runId })
    expect(report).toMatchObject({ count: 9, accuracy: 1, split: 'test' })
    expect(report.actuals).toHaveLength(9)
    // A reload finds the last evaluation with the services.
    expect(await call('evaluation.last', { runId })).toEqual(report)
    expect((await call('runs.list', {})).find((r) => r.id === runId)?.metrics).toMatchObject({
      testAccuracy: 1,
      testLoss: 0.01,
      epochs: 2,
    })
    // The list carries what the Models comparison table shows: settings, time and backend.
    const listed = (await call('runs.list', {})).find((r) => r.id === runId)
    expect(listed?.config).toMatchObject({ preset: 'fast', epochs: 2 })
    expect(listed?.config?.batchSize).toBe(detail.config.batchSize)
    expect(listed?.backend?.name).toBeDefined()
    expect(listed?.metrics?.seconds).toBeGreaterThanOrEqual(0)
    const picked = await call('evaluation.samples', { runId, indices: [0, 4, 100] })
    expect(picked.map((s) => [s.index, s.label])).toEqual([
      [0, 0],
      [4, 1],
    ])

    await call('models.activate', { runId })
    const drawn = Buffer.alloc(50 * 40, 0)
    drawn[100] = 255
    const result = await call('draw.classify', {
      width: 50,
      height: 40,
      data: drawn.toString('base64'),
    })
    expect(result).toMatchObject({ modelId: runId, empty: false })
    expect(result.prediction?.index).toBe(1)
    expect(Buffer.from(result.input, 'base64')).toHaveLength(784)
    const blank = await call('draw.classify', {
      width: 10,
      height: 10,
      data: Buffer.alloc(100).toString('base64'),
    })
    expect(blank).toMatchObject({ empty: true, prediction: null })
    await expect(
      call('draw.classify', { width: 10, height: 10, data: Buffer.alloc(7).toString('base64') }),
    ).rejects.toThrow(/needs 100/)

    const renamed = await call('runs.rename', { runId, name: 'Renamed' })
    expect(renamed.name).toBe('Renamed')
    const exported = await call('runs.export', { runId, destination: join(workDir, 'export') })
    expect(exported.files).toEqual(
      expect.arrayContaining([
        'model/model.json',
        'model/weights.bin',
        'model/metadata.json',
        'report/metrics.json',
        'report/history.csv',
        'report/per-class.csv',
        'report/confusion-matrix.csv',
        'report/loss.svg',
        'report/accuracy.svg',
        'report/report.html',
      ]),
    )
    const html = await readFile(join(exported.path, 'report', 'report.html'), 'utf8')
    expect(html).toContain('<svg')
    expect(html).toContain('Renamed')
    // The shared model names its training folder, not where it sits on this machine.
    const exportedMeta = await readFile(join(exported.path, 'model', 'metadata.json'), 'utf8')
    expect(JSON.parse(exportedMeta).dataset.source).toBe('folder:digits')
    expect(exportedMeta).not.toContain(workDir)
    const csv = await readFile(join(exported.path, 'report', 'history.csv'), 'utf8')
    expect(csv.split('\n')[0]).toMatch(/^epoch,step,loss,accuracy,val_loss/)
    // A model trained before that still carries the path: its export leaves the path out too.
    const modelMeta = join(runDir, 'model', 'metadata.json')
    const older = JSON.parse(await readFile(modelMeta, 'utf8')) as { dataset: { source: string } }
    older.dataset.source = `folder:${join(workDir, 'digits')}`
    await writeFile(modelMeta, JSON.stringify(older))
    const second = await call('runs.export', { runId, destination: join(workDir, 'export') })
    expect(second.path).not.toBe(exported.path)
    const secondMeta = await readFile(join(second.path, 'model', 'metadata.json'), 'utf8')
    expect(JSON.parse(secondMeta).dataset.source).toBe('folder:digits')
    expect(secondMeta).not.toContain(workDir)
    expect(await readFile(modelMeta, 'utf8'), 'the run keeps its own copy as it was').toContain(
      workDir,
    )

    await call('runs.delete', { runId })
    expect((await call('runs.list', {})).map((r) => r.id)).not.toContain(runId)
  })

  it('evaluates a folder dataset without a test split on the validation split, and says so', async () => {
    const { call, events } = open(inProcessHosts(createFakeEngine({ folderTestSplit: false })))
    const dataset = await call('dataset.importFolder', { path: await folderDataset() })
    expect(dataset.testSize).toBe(0)
    const { runId } = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 1, validationSplit: 0.2 },
    })
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'completed'),
    )
    // The fake trainer's best validation accuracy is 0.6; its evaluation finds 1 and loss 0.01.
    expect((await call('runs.get', { runId })).metrics).toMatchObject({ valAccuracy: 0.6 })
    const report = await call('evaluation.run', { runId })
    // 20% of the 30 training images, 2 per class.
    expect(report).toMatchObject({ split: 'validation', count: 6 })
    // The evaluated numbers are kept with the run (no test split: as its validation metrics).
    const listed = (await call('runs.list', {})).find((r) => r.id === runId)
    expect(listed?.metrics).toMatchObject({ valAccuracy: 1, valLoss: 0.01 })
    expect(listed?.metrics?.testAccuracy).toBeUndefined()
    const onDisk = JSON.parse(await readFile(join(dataDir, 'runs', runId, 'run.json'), 'utf8')) as {
      metrics: Record<string, number>
    }
    expect(onDisk.metrics).toMatchObject({ valAccuracy: 1, valLoss: 0.01, epochs: 1 })
    const exported = await call('runs.export', { runId, destination: join(workDir, 'export') })
    const metrics = JSON.parse(
      await readFile(join(exported.path, 'report', 'metrics.json'), 'utf8'),
    ) as { evaluation: { split: string } }
    expect(metrics.evaluation.split).toBe('validation')
  })

  it('evaluates a model on another dataset with the same classes, saying which data it was', async () => {
    const session = open(inProcessHosts(createFakeEngine()))
    const { call } = session
    const { runId, datasetId } = await completedRun(session)
    const before = (await call('runs.get', { runId })).metrics
    // The same classes in another folder.
    const other = join(workDir, 'other-digits')
    for (const label of ['a', 'b', 'c']) {
      await mkdir(join(other, label), { recursive: true })
      await writeFile(join(other, label, '1.png'), 'x')
    }
    const second = await call('dataset.importFolder', { path: other, name: 'Other' })
    const report = await call('evaluation.run', { runId, datasetId: second.id })
    expect(report).toMatchObject({ split: 'test', dataset: { id: second.id, name: 'Other' } })
    // The run's own figures stay those of its own dataset.
    expect((await call('runs.get', { runId })).metrics).toEqual(before)
    expect(await call('evaluation.last', { runId })).toMatchObject({ dataset: { id: second.id } })
    const own = await call('evaluation.run', { runId })
    expect(own.dataset).toEqual({ id: datasetId, name: 'folder' })
    // The samples behind the figures come from the dataset that was evaluated.
    expect(
      await call('evaluation.samples', { runId, datasetId: second.id, indices: [0] }),
    ).toHaveLength(1)

    // Other classes: refused, naming both.
    const letters = join(workDir, 'letters')
    for (const label of ['x', 'y', 'z']) {
      await mkdir(join(letters, label), { recursive: true })
      await writeFile(join(letters, label, '1.png'), 'x')
    }
    const third = await call('dataset.importFolder', { path: letters })
    await expect(call('evaluation.run', { runId, datasetId: third.id })).rejects.toThrow(
      /other classes \(x y z\) than the model \(a b c\)/,
    )
  })

  it('evaluates on all images of another dataset without a test split, named as such', async () => {
    const session = open(inProcessHosts(createFakeEngine({ folderTestSplit: false })))
    const { runId } = await completedRun(session)
    const other = join(workDir, 'again')
    for (const label of ['a', 'b', 'c']) {
      await mkdir(join(other, label), { recursive: true })
      await writeFile(join(other, label, '1.png'), 'x')
    }
    const second = await session.call('dataset.importFolder', { path: other })
    expect(second.testSize).toBe(0)
    const report = await session.call('evaluation.run', { runId, datasetId: second.id })
    expect(report).toMatchObject({ split: 'train', count: 30 })
  })

  it('allows one training at a time and stops a run keeping its model', async () => {
    const { call, events } = open(inProcessHosts(createFakeEngine({ epochMs: 200 })))
    const dataset = await call('dataset.importFolder', { path: await folderDataset() })
    const { runId } = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 50 },
    })
    await expect(
      call('training.start', { datasetId: dataset.id, config: { preset: 'fast' } }),
    ).rejects.toThrow(/already in progress/)
    await until(() =>
      events.some((e) => e.name === 'training.progress' && e.payload.progress.kind === 'epoch'),
    )
    const current = await call('training.current', {})
    expect(current?.id).toBe(runId)
    expect(current?.history.length).toBeGreaterThanOrEqual(1)
    await expect(call('runs.delete', { runId })).rejects.toThrow(/stop it/)
    await expect(call('dataset.delete', { datasetId: dataset.id })).rejects.toThrow(/stop it/)
    expect(await call('training.stop', { runId: 'other' })).toEqual({ ok: false })
    expect(await call('training.stop', { runId })).toEqual({ ok: true })
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'cancelled'),
    )
    const run = await call('runs.get', { runId })
    expect(run).toMatchObject({ state: 'cancelled', hasModel: true })
    // The message says what was kept, and it is true: the best epoch's model loads.
    expect(run.message).toMatch(/^Stopped after \d+ epochs?\. The best epoch's weights \(epoch \d+/)
    expect(run.message).toMatch(/Test accuracy 100\.0% on 9 images of the held-out test split/)
    expect(await call('models.activate', { runId })).toMatchObject({ id: runId, active: true })

    // Stopped before an epoch ended: nothing was saved, and it says so.
    const second = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 50 },
    })
    await until(() =>
      events.some((e) => e.name === 'training.progress' && e.payload.runId === second.runId),
    )
    await call('training.stop', { runId: second.runId })
    await until(() =>
      events.some(
        (e) =>
          e.name === 'training.state' &&
          e.payload.runId === second.runId &&
          e.payload.state === 'cancelled',
      ),
    )
    const early = await call('runs.get', { runId: second.runId })
    expect(early).toMatchObject({
      hasModel: false,
      message: 'Stopped before the first epoch ended: nothing was saved.',
    })
    await expect(call('models.activate', { runId: second.runId })).rejects.toThrow(/no model/)
  })

  it('refuses the second of two concurrent starts; the first can be stopped and keeps its folder', async () => {
    const { call, events } = open(inProcessHosts(createFakeEngine({ epochMs: 200 })))
    const dataset = await call('dataset.importFolder', { path: await folderDataset() })
    const start = () =>
      call('training.start', { datasetId: dataset.id, config: { preset: 'fast', epochs: 50 } })
    const results = await Promise.allSettled([start(), start()])
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r) => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    expect(String((lost[0] as PromiseRejectedResult).reason)).toMatch(/already in progress/)
    const { runId } = (won[0] as PromiseFulfilledResult<{ runId: string }>).value
    expect((await call('training.current', {}))?.id).toBe(runId)
    expect(await call('training.stop', { runId })).toEqual({ ok: true })
    await until(() =>
      events.some(
        (e) =>
          e.name === 'training.state' &&
          e.payload.runId === runId &&
          e.payload.state === 'cancelled',
      ),
    )
    const listed = await call('runs.list', {})
    expect(listed.map((r) => r.id)).toEqual([runId])
    expect(listed[0].state).toBe('cancelled')
    expect(await readFile(join(dataDir, 'runs', runId, 'run.json'), 'utf8')).toContain(runId)
  })

  it('refuses to delete the dataset of a run that is still starting', async () => {
    const first = open(inProcessHosts(createFakeEngine()))
    const dataset = await first.call('dataset.importFolder', { path: await folderDataset() })
    await first.services.close()
    // A new host has to load the dataset from disk as the run starts: hold that load.
    const base = createFakeEngine({ epochMs: 200 })
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    let loading = false
    const engine = {
      ...base,
      async loadSavedDataset(dir: string) {
        loading = true
        await gate
        return base.loadSavedDataset(dir)
      },
    }
    const { call, events } = open(inProcessHosts(engine))
    const starting = call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 50 },
    })
    await until(() => loading)
    await expect(call('dataset.delete', { datasetId: dataset.id })).rejects.toThrow(/stop it/)
    release()
    const { runId } = await starting
    expect(await call('training.stop', { runId })).toEqual({ ok: true })
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'cancelled'),
    )
    expect((await call('dataset.list', {})).map((d) => d.id)).toEqual([dataset.id])
  })

  it('keeps a rename that lands while a finished run is being recorded', async () => {
    const hosts = inProcessHosts(createFakeEngine())
    // The run the host was asked to train, read from the request itself: the host may answer
    // before training.start has returned its runId to this test (it does under load).
    let trainedId: string | null = null
    let renamed: Promise<unknown> | null = null
    // Renames the run right after the services have seen the host's answer to training.run,
    // before they record the finished run.
    const factory: HostTransportFactory = () => {
      const transport = hosts.factory()
      return {
        pid: transport.pid,
        send: (message) => {
          if (message.type === 'request' && message.method === 'training.run') {
            trainedId = (message.params as TrainJob).runId
          }
          transport.send(message)
        },
        onExit: (listener) => transport.onExit(listener),
        kill: () => transport.kill(),
        onMessage: (listener) =>
          transport.onMessage((message) => {
            listener(message)
            const result = (message as { result?: object }).result
            if (result && 'modelSaved' in result && trainedId) {
              renamed = call('runs.rename', { runId: trainedId, name: 'Renamed as it ended' })
            }
          }),
      }
    }
    // The listener above uses `call` only once training.run answers, long after this line.
    const { call, events } = open(hosts, { transport: factory })
    const dataset = await call('dataset.importFolder', { path: await folderDataset() })
    const { runId } = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 1 },
    })
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'completed'),
    )
    expect(trainedId).toBe(runId)
    expect(renamed, 'the rename was sent as the host answered').not.toBeNull()
    await renamed
    const onDisk = JSON.parse(await readFile(join(dataDir, 'runs', runId, 'run.json'), 'utf8')) as {
      name: string
      state: string
    }
    expect(onDisk).toMatchObject({ name: 'Renamed as it ended', state: 'completed' })
  })

  it('pauses at the trainer gate and resumes', async () => {
    const { call, events } = open(inProcessHosts(createFakeEngine({ epochMs: 80 })))
    const dataset = await call('dataset.importFolder', { path: await folderDataset() })
    const { runId } = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 20 },
    })
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'running'),
    )
    expect(await call('training.pause', { runId })).toEqual({ ok: true })
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'paused'),
    )
    expect((await call('runs.get', { runId })).state).toBe('paused')
    const seen = events.length
    await new Promise((r) => setTimeout(r, 150))
    expect(events.slice(seen).filter((e) => e.name === 'training.progress')).toHaveLength(0)
    expect(await call('training.resume', { runId })).toEqual({ ok: true })
    await until(() => events.slice(seen).some((e) => e.name === 'training.progress'))
    await call('training.stop', { runId })
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'cancelled'),
    )
  })

  it('fails the run when the host crashes, keeps the checkpoint, restarts the host lazily', async () => {
    const hosts = inProcessHosts(createFakeEngine({ epochMs: 100 }))
    const { call, events, services } = open(hosts)
    const dataset = await call('dataset.importFolder', { path: await folderDataset() })
    const { runId } = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 100 },
    })
    // The second epoch's event comes after the first checkpoint was written.
    await until(
      () =>
        events.filter((e) => e.name === 'training.progress' && e.payload.progress.kind === 'epoch')
          .length >= 2,
    )
    hosts.crash()
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'failed'),
    )
    const status = events.filter((e) => e.name === 'engine.status').at(-1)
    expect(status?.payload).toMatchObject({
      running: false,
      error: expect.stringMatching(/exit code 1/),
    })
    const failed = await call('runs.get', { runId })
    expect(failed.state).toBe('failed')
    expect(failed.message).toMatch(/best checkpoint was kept/)
    expect(failed.hasModel).toBe(true)
    expect((await call('app.info', {})).engineError).toMatch(/exit code 1/)
    expect(services.engine.started).toBe(false)

    // The checkpoint works as the run's model, and a new run starts on a fresh host.
    await call('models.activate', { runId })
    const drawn = Buffer.alloc(4, 200).toString('base64')
    expect((await call('draw.classify', { width: 2, height: 2, data: drawn })).modelId).toBe(runId)
    expect(hosts.started).toBe(2)
    const next = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 1 },
    })
    await until(() =>
      events.some(
        (e) =>
          e.name === 'training.state' &&
          e.payload.runId === next.runId &&
          e.payload.state === 'completed',
      ),
    )
  })

  it('marks runs left running by a previous session as failed, keeping their checkpoint', async () => {
    const first = open(inProcessHosts(createFakeEngine({ epochMs: 2000 })))
    const dataset = await first.call('dataset.importFolder', { path: await folderDataset() })
    const { runId } = await first.call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 5 },
    })
    // Simulate an app killed mid-run: state stays 'running' on disk, a checkpoint exists.
    const runFile = join(dataDir, 'runs', runId, 'run.json')
    await until(async () => {
      const onDisk = JSON.parse(await readFile(runFile, 'utf8')) as { state: string }
      return onDisk.state === 'running'
    })
    await writeModelFolder(
      join(dataDir, 'runs', runId, 'checkpoint'),
      testMetadata({
        name: 'x',
        labels: ['a', 'b'],
        dataset: { name: 'd', source: 's', trainSize: 1, testSize: 0 },
        preset: 'fast',
        metrics: { epochs: 1, seconds: 1, samplesPerSecond: 1 },
      }),
    )

    const second = open(inProcessHosts(createFakeEngine()))
    const runs = await second.call('runs.list', {})
    const found = runs.find((r) => r.id === runId)
    expect(found).toMatchObject({ state: 'failed', message: INTERRUPTED_MESSAGE, hasModel: true })
    expect(await second.call('training.current', {})).toBeNull()
  })

  it('lists the bundled model as builtin-mnist and uses it by default', async () => {
    const engine = createFakeEngine()
    const hosts = inProcessHosts(engine)
    await bundledModel()
    const { call } = open(hosts)
    const list = await call('runs.list', {})
    expect(list[0]).toMatchObject({
      id: 'builtin-mnist',
      builtin: true,
      hasModel: true,
      state: 'completed',
      active: true,
    })
    const detail = await call('runs.get', { runId: 'builtin-mnist' })
    expect(detail.config.preset).toBe('accurate')
    // Without a run.json beside it, its settings are not known: the list leaves them out.
    expect(list[0]!.config).toBeUndefined()
    const drawn = Buffer.alloc(4, 200).toString('base64')
    expect((await call('draw.classify', { width: 2, height: 2, data: drawn })).modelId).toBe(
      'builtin-mnist',
    )
    await expect(call('runs.delete', { runId: 'builtin-mnist' })).rejects.toThrow(
      /cannot be deleted/,
    )
    await expect(call('runs.rename', { runId: 'builtin-mnist', name: 'x' })).rejects.toThrow(
      /cannot be renamed/,
    )
    // Built-in MNIST as a dataset: listed after loading, evaluated on its test split.
    const mnist = await call('dataset.loadBuiltin', { name: 'mnist' })
    expect(mnist.id).toBe('builtin-mnist')
    expect((await call('dataset.list', {}))[0].id).toBe('builtin-mnist')
    expect((await call('evaluation.run', { runId: 'builtin-mnist' })).count).toBe(9)
  })

  it('marks the active run: the bundled model by default, the activated one, the fallback', async () => {
    await bundledModel()
    const session = open(inProcessHosts(createFakeEngine()))
    const { call } = session
    const activeIds = async () =>
      (await call('runs.list', {})).filter((r) => r.active).map((r) => r.id)
    expect(await activeIds()).toEqual(['builtin-mnist'])
    expect((await call('runs.get', { runId: 'builtin-mnist' })).active).toBe(true)

    const { runId } = await completedRun(session)
    expect(await activeIds()).toEqual(['builtin-mnist'])
    expect((await call('runs.get', { runId })).active).toBe(false)

    expect(await call('models.activate', { runId })).toMatchObject({ id: runId, active: true })
    expect(await activeIds()).toEqual([runId])
    expect((await call('runs.get', { runId })).active).toBe(true)
    expect((await call('runs.get', { runId: 'builtin-mnist' })).active).toBe(false)
    expect((await call('runs.rename', { runId, name: 'Kept' })).active).toBe(true)
    // `active` is computed from the settings, never stored with the run.
    const onDisk = JSON.parse(
      await readFile(join(dataDir, 'runs', runId, 'run.json'), 'utf8'),
    ) as Record<string, unknown>
    expect(onDisk).not.toHaveProperty('active')

    await call('runs.delete', { runId })
    expect(await activeIds()).toEqual(['builtin-mnist'])
  })

  it('says clearly when no model is active', async () => {
    const { call } = open(inProcessHosts(createFakeEngine()))
    const drawn = Buffer.alloc(4, 200).toString('base64')
    await expect(call('draw.classify', { width: 2, height: 2, data: drawn })).rejects.toThrow(
      /no model is active/,
    )
  })

  it('records a run before the host trains it: a record that cannot be written starts nothing', async () => {
    const { call, events } = open(inProcessHosts(createFakeEngine({ epochMs: 100 })))
    const dataset = await call('dataset.importFolder', { path: await folderDataset() })
    const diskFull = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      path: join(dataDir, 'runs', 'x', 'run.json'),
    })
    vi.spyOn(RunStore.prototype, 'save').mockRejectedValueOnce(diskFull)
    await expect(
      call('training.start', { datasetId: dataset.id, config: { preset: 'fast', epochs: 50 } }),
    ).rejects.toThrow(/run\.json: the disk is full/)
    // No ghost: nothing trains, nothing is current, and the next start is not refused.
    await new Promise((r) => setTimeout(r, 150))
    expect(events.filter((e) => e.name === 'training.progress')).toEqual([])
    expect(await call('training.current', {})).toBeNull()
    expect(await call('runs.list', {})).toEqual([])
    const { runId } = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 1 },
    })
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'completed'),
    )
    expect((await call('runs.get', { runId })).state).toBe('completed')
  })

  it('keeps a run visible and stoppable when its writes fail in the middle', async () => {
    const { call, events } = open(inProcessHosts(createFakeEngine({ epochMs: 100 })))
    const dataset = await call('dataset.importFolder', { path: await folderDataset() })
    const { runId } = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 50 },
    })
    await until(() => events.some((e) => e.name === 'training.progress'))
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    vi.spyOn(RunStore.prototype, 'save').mockRejectedValue(
      Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }),
    )
    vi.spyOn(RunStore.prototype, 'appendHistory').mockRejectedValue(new Error('ENOSPC'))
    await until(
      () =>
        events.filter((e) => e.name === 'training.progress' && e.payload.progress.kind === 'epoch')
          .length >= 2,
    )
    const current = await call('training.current', {})
    expect(current?.id).toBe(runId)
    expect(current?.history.length).toBeGreaterThanOrEqual(2)
    expect(current?.batches?.length).toBeGreaterThan(0)
    await expect(call('runs.delete', { runId })).rejects.toThrow(/stop it/)
    expect(await call('training.stop', { runId })).toEqual({ ok: true })
    await until(() =>
      events.some((e) => e.name === 'training.state' && e.payload.state === 'cancelled'),
    )
    expect(await call('training.current', {})).toMatchObject({ id: runId, state: 'cancelled' })
    expect(quiet).toHaveBeenCalled()
  })

  it('cancels an import through the call it belongs to', async () => {
    const base = createFakeEngine()
    let started = false
    const engine = {
      ...base,
      async importFolder(dir: string, options: Parameters<typeof base.importFolder>[1] = {}) {
        started = true
        await new Promise<void>((resolve) =>
          options.signal?.addEventListener('abort', () => resolve()),
        )
        return base.importFolder(dir, options)
      },
    }
    const { call } = open(inProcessHosts(engine))
    expect(await call('dataset.cancelImport', {})).toEqual({ cancelled: false })
    const importing = call('dataset.importFolder', { path: await folderDataset() })
    await until(() => started)
    await expect(call('dataset.importFolder', { path: await folderDataset() })).rejects.toThrow(
      /another import is in progress/,
    )
    expect(await call('dataset.cancelImport', {})).toEqual({ cancelled: true })
    await expect(importing).rejects.toThrow(/the import was cancelled/)
    expect(await call('dataset.list', {})).toEqual([])
  })

  it('drops an evaluation whose caller went away', async () => {
    const base = createFakeEngine()
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    let evaluated = 0
    const engine = {
      ...base,
      async loadModel(dir: string) {
        await gate
        return base.loadModel(dir)
      },
      evaluateModel(...args: Parameters<typeof base.evaluateModel>) {
        evaluated++
        return base.evaluateModel(...args)
      },
    }
    const session = open(inProcessHosts(engine))
    const { call } = session
    const { runId } = await completedRun(session)
    const caller = new AbortController()
    const evaluation = call('evaluation.run', { runId }, caller.signal)
    await new Promise((r) => setTimeout(r, 50))
    caller.abort()
    release()
    await expect(evaluation).rejects.toThrow(/abort/i)
    expect(evaluated).toBe(0)
  })

  it('exports as a whole or not at all, and explains file-system errors', async () => {
    const session = open(inProcessHosts(createFakeEngine()))
    const { call } = session
    const { runId } = await completedRun(session)
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const file = join(workDir, 'a-file')
    await writeFile(file, 'x')
    await expect(
      call('runs.export', { runId, destination: join(file, 'exports') }),
    ).rejects.toMatchObject({
      name: 'FileSystemError',
      message: `${file}: is a file, not a folder`,
    })
    if (process.platform === 'linux') {
      // Under /proc nothing can be created: an answer, at once (Node 20's mkdir -p loops there).
      await expect(
        call('runs.export', { runId, destination: '/proc/inklab-export' }),
      ).rejects.toThrow(/\/proc\/inklab-export: a folder cannot be created here/)
      await expect(call('runs.export', { runId, destination: '/proc' })).rejects.toThrow(
        /\/proc: nothing can be written here/,
      )
    }
    expect(logged).not.toHaveBeenCalled()
  })
})

describe('collecting by drawing, corrections and fine-tuning', () => {
  /** A pad image with ink (the fake engine's preprocessing fills the input with its brightest pixel). */
  const image = (value = 200) => ({
    width: 4,
    height: 4,
    data: Buffer.alloc(16, value).toString('base64'),
  })
  const ink = { padSize: 280, strokes: [{ width: 18, points: [[10, 10, 1] as const] }] }

  it('builds a drawn dataset: counts per class, undo, concurrent saves, and it is listed like any other', async () => {
    const { call } = open(inProcessHosts(createFakeEngine()))
    const created = await call('collection.create', { name: 'My letters' })
    expect(created).toMatchObject({ name: 'My letters', source: { kind: 'drawn' }, labels: [] })
    await expect(
      call('training.start', { datasetId: created.id, config: { preset: 'fast', epochs: 1 } }),
    ).rejects.toThrow(/“My letters” has no classes; a model needs at least two/)

    const first = await call('collection.add', {
      datasetId: created.id,
      label: 'a',
      image: image(),
      ink,
    })
    expect(first.sample).toMatchObject({ label: 'a', key: expect.stringMatching(/^d-/) })
    expect(Buffer.from(first.sample.pixels, 'base64')).toEqual(Buffer.alloc(784, 200))
    // Saved at once, from many places: every one counts, none is lost.
    const saves = ['a', 'b', 'c', 'b', 'c', 'a', 'b', 'c'].map((label) =>
      call('collection.add', { datasetId: created.id, label, image: image(), ink }),
    )
    await Promise.all(saves)
    let listed = (await call('dataset.list', {})).find((d) => d.id === created.id)!
    expect(listed).toMatchObject({
      labels: ['a', 'b', 'c'],
      trainCounts: [3, 3, 3],
      trainSize: 9,
      edits: { drawn: 9, relabelled: 0, excluded: 0 },
    })
    // Three drawings a class: fast's own 5% validation split would be refused as too small.
    await expect(
      call('training.start', {
        datasetId: created.id,
        config: { preset: 'fast', epochs: 1, validationSplit: 0.2 },
      }),
    ).resolves.toMatchObject({ runId: expect.any(String) })
    // The run that ended stays current (for a reloaded Train view) in a final state.
    await until(async () =>
      ['completed', 'early-stopped', 'failed', 'cancelled'].includes(
        (await call('training.current', {}))?.state ?? '',
      ),
    )

    const undone = await call('collection.undo', { datasetId: created.id })
    expect(undone.removed?.label).toBe('c')
    expect(undone.summary.trainCounts).toEqual([3, 3, 2])
    listed = (await call('dataset.list', {})).find((d) => d.id === created.id)!
    expect(listed.trainCounts).toEqual([3, 3, 2])
    // Too few of "c" to hold one out for validation: refused, naming the class.
    await expect(
      call('training.start', {
        datasetId: created.id,
        config: { preset: 'fast', epochs: 1, validationSplit: 0.2 },
      }),
    ).rejects.toThrow(
      /“My letters” is too small to train: “c” has 2 samples; with a 20% validation split each class needs at least 3/,
    )
    const samples = await call('dataset.samples', { datasetId: created.id, label: 1 })
    expect(samples).toHaveLength(3)
    expect(samples.every((s) => s.key?.startsWith('d-'))).toBe(true)

    await expect(
      call('collection.add', { datasetId: created.id, label: 'a', image: image(0), ink }),
    ).rejects.toThrow(/no ink to save/)
    await expect(
      call('collection.add', { datasetId: created.id, label: '  ', image: image(), ink }),
    ).rejects.toMatchObject({ name: 'ValidationError' })

    // A new session (new host) reads the drawings back from the log.
    const again = open(inProcessHosts(createFakeEngine()))
    const reread = await again.call('dataset.samples', { datasetId: created.id, count: 20 })
    expect(reread).toHaveLength(8)
  })

  it('keeps the drawings added to a folder when the folder is refreshed, and their counts', async () => {
    const { call } = open(inProcessHosts(createFakeEngine({ folderTestSplit: false })))
    const path = await folderDataset()
    const first = await call('dataset.importFolder', { path })
    await call('collection.add', { datasetId: first.id, label: 'b', image: image(), ink })
    const refreshed = await call('dataset.importFolder', { path, replace: first.id })
    expect(refreshed).toMatchObject({
      id: first.id,
      trainSize: first.trainSize + 1,
      edits: { drawn: 1, relabelled: 0, excluded: 0 },
    })
    expect((await call('dataset.list', {}))[0]).toMatchObject({ trainSize: first.trainSize + 1 })
    const samples = await call('dataset.samples', { datasetId: first.id, count: 100 })
    expect(samples.filter((s) => s.key?.startsWith('d-'))).toHaveLength(1)
  })

  it('keeps a correction on its image when a refresh finds a file added before it (the user’s files untouched)', async () => {
    const { call } = open(inProcessHosts(realDataEngine()))
    const path = await imageFolder([
      'a/1.png',
      'a/2.png',
      'a/3.png',
      'b/1.png',
      'b/2.png',
      'b/3.png',
    ])
    const untouched = await folderState(path)
    const first = await call('dataset.importFolder', { path, test: { fraction: 0 } })
    const before = await call('dataset.samples', { datasetId: first.id, count: 100 })
    const corrected = before.find((s) => s.file === 'b/2.png')!
    expect(corrected.key).toBe('file:b/2.png')
    await call('collection.correct', {
      datasetId: first.id,
      key: corrected.key!,
      correction: { action: 'relabel', label: 'a' },
    })
    await call('collection.correct', {
      datasetId: first.id,
      key: before.find((s) => s.file === 'a/2.png')!.key!,
      correction: { action: 'exclude' },
    })
    expect(await folderState(path), 'the user’s files are untouched').toEqual(untouched)

    // A file sorted before the corrected ones: every stored position after it moves by one.
    await writeImage(join(path, 'a', '0.png'), 3)
    await writeImage(join(path, 'b', '0.png'), 4)
    const refreshed = await call('dataset.importFolder', {
      path,
      test: { fraction: 0 },
      replace: first.id,
    })
    expect(refreshed.edits).toEqual({ drawn: 0, relabelled: 1, excluded: 1 })
    const after = await call('dataset.samples', { datasetId: first.id, count: 100 })
    const byFile = new Map(after.map((s) => [s.file, s]))
    expect(byFile.get('b/2.png')).toMatchObject({ label: 0, pixels: corrected.pixels })
    expect(byFile.get('b/1.png')?.label, 'the image now where it was is not relabelled').toBe(1)
    expect(byFile.has('a/2.png'), 'the excluded image stays out').toBe(false)
    expect([...byFile.keys()].sort()).toEqual(
      ['a/0.png', 'a/1.png', 'a/3.png', 'b/0.png', 'b/1.png', 'b/2.png', 'b/3.png'].sort(),
    )
  })

  it('moves an older log’s corrections by position onto their files before a refresh; ones from before an earlier refresh are dropped, and counted', async () => {
    const { call } = open(inProcessHosts(realDataEngine()))
    const path = await imageFolder(['a/1.png', 'a/2.png', 'b/1.png', 'b/2.png'])
    const first = await call('dataset.importFolder', { path, test: { fraction: 0 } })
    const position = (await call('dataset.samples', { datasetId: first.id, count: 100 })).findIndex(
      (s) => s.file === 'b/2.png',
    )
    // As InkLab wrote them before file keys: one on this copy, one on a copy refreshed since.
    const log = join(dataDir, 'datasets', first.id, 'edits.jsonl')
    await writeFile(
      log,
      [
        { format: 'inklab-edits', formatVersion: 1 },
        { op: 'relabel', key: `train:${position}`, label: 'a', at: new Date().toISOString() },
        { op: 'remove', key: 'train:0', at: '2020-01-01T00:00:00.000Z' },
      ]
        .map((line) => `${JSON.stringify(line)}\n`)
        .join(''),
    )
    await writeImage(join(path, 'b', '0.png'), 4)
    const refreshed = await call('dataset.importFolder', {
      path,
      test: { fraction: 0 },
      replace: first.id,
    })
    expect(refreshed.edits).toEqual({ drawn: 0, relabelled: 1, excluded: 0, stale: 1 })
    const after = await call('dataset.samples', { datasetId: first.id, count: 100 })
    expect(after.map((s) => [s.file, s.label])).toEqual([
      ['a/1.png', 0],
      ['a/2.png', 0],
      ['b/0.png', 1],
      ['b/1.png', 1],
      ['b/2.png', 0],
    ])
    expect(await readFile(log, 'utf8')).toContain('"key":"file:b/2.png"')
  })

  it('corrects an imported dataset in its own copy: a drawing with one of its classes, a relabel, an exclusion', async () => {
    const { call } = open(inProcessHosts(createFakeEngine({ folderTestSplit: false })))
    const folder = await folderDataset()
    const before = await readFile(join(folder, 'a', '1.png'), 'utf8')
    const dataset = await call('dataset.importFolder', { path: folder })
    expect(dataset.labels).toEqual(['a', 'b', 'c'])

    const added = await call('collection.add', {
      datasetId: dataset.id,
      label: 'b',
      image: image(),
      ink,
    })
    expect(added.summary.trainCounts).toEqual([10, 11, 10])
    await expect(
      call('collection.add', { datasetId: dataset.id, label: 'z', image: image(), ink }),
    ).rejects.toThrow(/“z” is not a class of this dataset \(a, b, c\)/)

    const { runId } = await call('training.start', {
      datasetId: dataset.id,
      config: { preset: 'fast', epochs: 1, validationSplit: 0.2 },
    })
    await until(async () => (await call('runs.get', { runId })).state === 'completed')
    // Evaluated samples carry their lasting key: a correction names the stored sample.
    const [first, second] = await call('evaluation.samples', { runId, indices: [0, 1] })
    expect(first!.key).toMatch(/^train:\d+$/)
    const relabelled = await call('collection.correct', {
      datasetId: dataset.id,
      key: first!.key!,
      correction: { action: 'relabel', label: 'c' },
    })
    const excluded = await call('collection.correct', {
      datasetId: dataset.id,
      key: second!.key!,
      correction: { action: 'exclude' },
    })
    expect(relabelled.summary.edits).toEqual({ drawn: 1, relabelled: 1, excluded: 0 })
    expect(excluded.summary).toMatchObject({
      trainSize: 30,
      edits: { drawn: 1, relabelled: 1, excluded: 1 },
    })
    await expect(
      call('collection.correct', {
        datasetId: dataset.id,
        key: 'train:999',
        correction: { action: 'exclude' },
      }),
    ).rejects.toThrow(/no sample "train:999"/)
    await expect(
      call('collection.correct', {
        datasetId: dataset.id,
        key: '../../x',
        correction: { action: 'exclude' },
      }),
    ).rejects.toMatchObject({ name: 'ValidationError' })
    expect(await readFile(join(folder, 'a', '1.png'), 'utf8'), 'the user’s file is untouched').toBe(
      before,
    )
    const log = await readFile(join(dataDir, 'datasets', dataset.id, 'edits.jsonl'), 'utf8')
    expect(log.trim().split('\n')).toHaveLength(4)
  })

  it('fine-tunes a run from its weights on its updated dataset, recording the parent and how it did', async () => {
    const engine = createFakeEngine()
    const session = open(inProcessHosts(engine))
    const { call, events } = session
    const { datasetId, runId: parentId } = await completedRun(session, {
      preset: 'fast',
      epochs: 2,
      learningRate: 0.002,
    })
    await call('collection.add', { datasetId, label: 'a', image: image(), ink })
    const { runId } = await call('training.fineTune', { runId: parentId })
    await until(
      () =>
        events.some(
          (e) =>
            e.name === 'training.state' &&
            e.payload.runId === runId &&
            e.payload.state === 'completed',
        ),
      FINE_TUNE_WAIT_MS,
    )
    const parentModel = join(dataDir, 'runs', parentId, 'model')
    expect(engine.calls).toContain(`trainAndSave:from:${parentModel}`)
    // The fine-tune held out the very samples its parent held out (recorded with the parent).
    const parentHeldOut = JSON.parse(
      await readFile(join(dataDir, 'runs', parentId, 'heldout.json'), 'utf8'),
    ) as { keys: string[] }
    expect(parentHeldOut.keys.length).toBeGreaterThan(0)
    expect(engine.calls).toContain(`trainAndSave:heldOut:${parentHeldOut.keys.join(',')}`)
    // What was drawn or relabelled since the parent started are the corrections.
    const parentStarted = (await call('runs.get', { runId: parentId })).createdAt
    expect(engine.calls).toContain(`trainAndSave:correctionsSince:${parentStarted}`)
    const detail = await call('runs.get', { runId })
    // A third of the parent's rate; the fast preset's 128-image batches make one step an epoch.
    expect(detail.config).toMatchObject({
      epochs: 200,
      learningRate: expect.closeTo(0.0006, 10),
      lrSchedule: 'constant',
    })
    expect(detail.datasetId).toBe(datasetId)
    const parentName = (await call('runs.get', { runId: parentId })).name
    expect(detail.name).toBe(`${parentName} · fine-tuned`)
    // The parent, measured on the same held-out split as the fine-tuned model (the test split).
    expect(detail.fineTunedFrom).toEqual({
      runId: parentId,
      name: parentName,
      evaluation: { split: 'test', accuracy: 1, loss: 0.01, count: 9 },
      sameHeldOut: true,
    })
    expect((await call('runs.list', {})).find((r) => r.id === runId)?.fineTunedFrom?.runId).toBe(
      parentId,
    )

    // Explicit settings win; another dataset with other classes is refused before any run starts.
    const other = await call('collection.create', { name: 'shapes' })
    for (const label of ['o', 'x']) {
      for (let i = 0; i < 3; i++) {
        await call('collection.add', { datasetId: other.id, label, image: image(), ink })
      }
    }
    const runsBefore = (await call('runs.list', {})).length
    await expect(
      call('training.fineTune', { runId: parentId, datasetId: other.id }),
    ).rejects.toThrow(/the model knows the classes a, b, c but “shapes” has o, x/)
    expect((await call('runs.list', {})).length).toBe(runsBefore)
    const custom = await call('training.fineTune', { runId, epochs: 2, learningRate: 0.001 })
    await until(async () => (await call('runs.get', { runId: custom.runId })).state === 'completed')
    expect((await call('runs.get', { runId: custom.runId })).config).toMatchObject({
      epochs: 2,
      learningRate: 0.001,
    })
  })

  it("sizes a fine-tune's schedule by the samples it trains on, not those its parent held out", async () => {
    const session = open(inProcessHosts(createFakeEngine()))
    const { call } = session
    const { datasetId, runId: parentId } = await completedRun(session, {
      preset: 'fast',
      epochs: 1,
      batchSize: 1,
    })
    const trainSize = (await call('dataset.list', {})).find((d) => d.id === datasetId)!.trainSize
    const heldOut = JSON.parse(
      await readFile(join(dataDir, 'runs', parentId, 'heldout.json'), 'utf8'),
    ) as { keys: string[] }
    const trained = trainSize - heldOut.keys.length
    // One step a sample: counting the held-out ones would give fewer epochs than the steps need.
    expect(fineTuneEpochs(trained, 1)).toBeGreaterThan(fineTuneEpochs(trainSize, 1))
    // What the form is offered is what runs.
    const offered = await call('training.fineTuneDefaults', { runId: parentId })
    expect(offered.epochs).toBe(fineTuneEpochs(trained, 1))
    const { runId } = await call('training.fineTune', { runId: parentId })
    expect((await call('runs.get', { runId })).config).toMatchObject(offered)
  })

  it('refuses to fine-tune an ensemble, in words, before anything starts', async () => {
    const session = open(inProcessHosts(createFakeEngine()))
    const { call } = session
    const { runId } = await completedRun(session, { preset: 'fast', epochs: 1, members: 2 })
    const runsBefore = (await call('runs.list', {})).length
    for (const request of ['training.fineTuneDefaults', 'training.fineTune'] as const) {
      await expect(call(request, { runId })).rejects.toThrow(
        /cannot fine-tune “.*”: it averages 2 networks \(an ensemble\), and a fine-tune trains one network/,
      )
    }
    expect((await call('runs.list', {})).length).toBe(runsBefore)
  })

  it('fine-tunes the bundled model on built-in MNIST with a drawing added to it', async () => {
    await bundledModel()
    const engine = createFakeEngine()
    const { call } = open(inProcessHosts(engine))
    const added = await call('collection.add', {
      datasetId: 'builtin-mnist',
      label: '1',
      image: image(),
      ink,
    })
    expect(added.summary).toMatchObject({ id: 'builtin-mnist', trainSize: 31 })
    expect((await call('dataset.list', {})).map((d) => d.id)).toContain('builtin-mnist')
    const { runId } = await call('training.fineTune', { runId: 'builtin-mnist' })
    await until(
      async () => (await call('runs.get', { runId })).state === 'completed',
      FINE_TUNE_WAIT_MS,
    )
    expect(engine.calls).toContain(`trainAndSave:from:${join(resourcesDir, 'models', 'mnist')}`)
    expect((await call('runs.get', { runId })).fineTunedFrom?.name).toBe('MNIST (bundled)')
  })
})
