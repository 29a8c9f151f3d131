// The services against a REAL engine host process (forked, real tfjs): a tiny generated folder
// dataset, short trainings, a host killed mid-run, and a services restart on the same data folder.
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { ROUTES, type RouteName, type RouteOutput } from '@shared/contract'
import * as ort from 'onnxruntime-node'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { dispatch } from '../../../src/main/services/dispatch'
import type { AppEvent } from '../../../src/main/services/events'
import { forkTransport } from '../../../src/main/services/forkTransport'
import { createServices, type Services } from '../../../src/main/services/services'
import { buildEngineHost } from './helpers/buildHost'

const CLASSES = ['bar', 'dash', 'box'] as const
const PER_CLASS = 16

/** A 28x28 drawing of `shape`, dark ink on white paper (as scanned), shifted by (dx, dy). */
function drawShape(shape: (typeof CLASSES)[number], dx: number, dy: number, size = 28): Buffer {
  const scale = size / 28
  const pixels = Buffer.alloc(size * size, 255)
  const ink = (x: number, y: number): void => {
    for (let py = Math.floor(y * scale); py < Math.floor((y + 1) * scale); py++) {
      for (let px = Math.floor(x * scale); px < Math.floor((x + 1) * scale); px++) {
        const ix = px + Math.round(dx * scale)
        const iy = py + Math.round(dy * scale)
        if (ix >= 0 && ix < size && iy >= 0 && iy < size) pixels[iy * size + ix] = 0
      }
    }
  }
  for (let y = 4; y < 24; y++) {
    for (let x = 4; x < 24; x++) {
      const bar = shape === 'bar' && x >= 12 && x < 16
      const dash = shape === 'dash' && y >= 12 && y < 16
      const box = shape === 'box' && (x < 7 || x >= 21 || y < 7 || y >= 21)
      if (bar || dash || box) ink(x, y)
    }
  }
  return pixels
}

async function writeDataset(dir: string): Promise<void> {
  for (const shape of CLASSES) {
    await mkdir(join(dir, shape), { recursive: true })
    for (let i = 0; i < PER_CLASS; i++) {
      const raw = drawShape(shape, (i % 5) - 2, ((i * 3) % 5) - 2)
      await sharp(raw, { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(join(dir, shape, `${i}.png`))
    }
  }
}

let workDir: string
let dataDir: string
let hostEntry: string
const opened: Services[] = []

function open() {
  const services = createServices({
    dataDir,
    resourcesDir: join(workDir, 'resources'),
    transport: forkTransport({ entry: hostEntry, backend: 'auto' }),
    version: '0.0.0-test',
  })
  opened.push(services)
  const events: AppEvent[] = []
  services.events.on((event) => events.push(event))
  async function call<N extends RouteName>(name: N, input: unknown): Promise<RouteOutput<N>> {
    const result = await dispatch(services, name, input, { transport: 'http' })
    if (!result.ok)
      throw Object.assign(new Error(result.error.message), { name: result.error.name })
    // Every answer must satisfy the contract's output schema.
    return ROUTES[name].output.parse(result.result) as RouteOutput<N>
  }
  return { services, events, call }
}

async function until(check: () => boolean | Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 25))
  }
}

const finished = (events: AppEvent[], runId: string, state?: string) =>
  events.some(
    (e) =>
      e.name === 'training.state' &&
      e.payload.runId === runId &&
      (state
        ? e.payload.state === state
        : !['starting', 'running', 'paused'].includes(e.payload.state)),
  )

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'inklab-host-'))
  dataDir = join(workDir, 'data')
  hostEntry = await buildEngineHost()
  await writeDataset(join(workDir, 'shapes'))
})

afterAll(async () => {
  for (const services of opened.splice(0)) await services.close()
  await rm(workDir, { recursive: true, force: true })
  await rm(hostEntry, { force: true })
})

describe('services with a real engine host process', () => {
  let datasetId = ''
  let firstRun = ''
  let main: ReturnType<typeof open>

  it('starts the host and reports its backend', async () => {
    main = open()
    const { services, call, events } = main
    await services.engine.start()
    const info = await call('app.info', {})
    expect(info.backend?.name).toMatch(/^(native|wasm|cpu)$/)
    expect(events.some((e) => e.name === 'engine.status' && e.payload.running)).toBe(true)
    expect(services.engine.pid).toBeGreaterThan(0)
  })

  it('imports a folder, trains one short epoch, evaluates and classifies a drawing', async () => {
    const { call, events } = main
    const summary = await call('dataset.importFolder', {
      path: join(workDir, 'shapes'),
      name: 'Shapes',
    })
    datasetId = summary.id
    expect(summary).toMatchObject({ name: 'Shapes', labels: [...CLASSES].sort(), trainSize: 48 })
    expect(events.some((e) => e.name === 'dataset.progress' && e.payload.phase === 'done')).toBe(
      true,
    )
    const samples = await call('dataset.samples', { datasetId, count: 4 })
    expect(samples).toHaveLength(4)
    expect(Buffer.from(samples[0].pixels, 'base64')).toHaveLength(784)

    const { runId } = await call('training.start', {
      datasetId,
      name: 'first',
      config: { preset: 'fast', epochs: 1, batchSize: 8, validationSplit: 0.25 },
    })
    firstRun = runId
    await until(() => finished(events, runId))
    const states = events
      .filter((e) => e.name === 'training.state' && e.payload.runId === runId)
      .map((e) => (e.name === 'training.state' ? e.payload.state : ''))
    expect(states).toEqual(['starting', 'running', 'completed'])
    const kinds = events
      .filter((e) => e.name === 'training.progress')
      .map((e) => (e.name === 'training.progress' ? e.payload.progress.kind : ''))
    expect(kinds).toContain('batch')
    expect(kinds.at(-1)).toBe('epoch')

    const runDir = join(dataDir, 'runs', runId)
    for (const file of [
      'run.json',
      'history.jsonl',
      'model/model.json',
      'model/weights.bin',
      'model/metadata.json',
    ]) {
      expect(existsSync(join(runDir, file)), file).toBe(true)
    }
    const detail = await call('runs.get', { runId })
    expect(detail).toMatchObject({
      state: 'completed',
      hasModel: true,
      labels: [...CLASSES].sort(),
    })
    expect(detail.history).toHaveLength(1)
    expect(detail.history[0].valAccuracy).toBeTypeOf('number')

    // No test split: evaluation uses the validation split the run held out (4 per class).
    const report = await call('evaluation.run', { runId })
    expect(report.count).toBe(12)
    expect(report.confusion).toHaveLength(3)
    expect(report.predictions).toHaveLength(12)
    const cells = await call('evaluation.samples', { runId, indices: [0, 11] })
    expect(cells.map((c) => c.index)).toEqual([0, 11])

    await call('models.activate', { runId })
    const drawn = drawShape('box', 0, 0, 112)
    const result = await call('draw.classify', {
      width: 112,
      height: 112,
      data: drawn.toString('base64'),
    })
    expect(result.modelId).toBe(runId)
    expect(result.empty).toBe(false)
    expect(result.prediction?.label).toMatch(/^(bar|dash|box)$/)
    const input = Buffer.from(result.input, 'base64')
    expect(input).toHaveLength(784)
    expect(Math.max(...input)).toBeGreaterThan(128) // white ink on black, as the model sees it
    const file = join(workDir, 'shapes', 'bar', '0.png')
    const fromFile = await call('draw.classifyFile', { path: file })
    expect(fromFile.empty).toBe(false)
  })

  it('fails a run whose host is killed, keeps its checkpoint, and trains again on a new host', async () => {
    const { services, call, events } = main
    const { runId } = await call('training.start', {
      datasetId,
      name: 'killed',
      config: { preset: 'fast', epochs: 500, batchSize: 8, validationSplit: 0.25 },
    })
    const checkpoint = join(dataDir, 'runs', runId, 'checkpoint', 'metadata.json')
    await until(() => existsSync(checkpoint))
    const pid = services.engine.pid
    expect(pid).toBeGreaterThan(0)
    process.kill(pid as number, 'SIGKILL')
    await until(() => finished(events, runId))
    const failedEvent = events.find(
      (e) =>
        e.name === 'training.state' && e.payload.runId === runId && e.payload.state === 'failed',
    )
    expect(failedEvent).toBeDefined()
    expect(
      events.some(
        (e) =>
          e.name === 'engine.status' && !e.payload.running && /SIGKILL/.test(e.payload.error ?? ''),
      ),
    ).toBe(true)
    const failed = await call('runs.get', { runId })
    expect(failed.state).toBe('failed')
    expect(failed.message).toMatch(/SIGKILL.*best checkpoint was kept/)
    expect(failed.hasModel).toBe(true)
    const onDisk = JSON.parse(await readFile(join(dataDir, 'runs', runId, 'run.json'), 'utf8')) as {
      state: string
    }
    expect(onDisk.state).toBe('failed')

    // The checkpoint is the run's model now.
    await call('models.activate', { runId })
    const drawn = drawShape('bar', 0, 0)
    expect(
      (await call('draw.classify', { width: 28, height: 28, data: drawn.toString('base64') }))
        .modelId,
    ).toBe(runId)

    const next = await call('training.start', {
      datasetId,
      name: 'after crash',
      config: { preset: 'fast', epochs: 1, batchSize: 16, validationSplit: 0.25 },
    })
    await until(() => finished(events, next.runId))
    expect((await call('runs.get', { runId: next.runId })).state).toBe('completed')
    expect(services.engine.pid).not.toBe(pid)
  })

  it('keeps runs and datasets across a services restart', async () => {
    for (const services of opened.splice(0)) await services.close()
    const { call } = open()
    const runs = await call('runs.list', {})
    expect(runs.map((r) => r.name)).toEqual(['after crash', 'killed', 'first'])
    expect(runs.find((r) => r.id === firstRun)).toMatchObject({
      state: 'completed',
      hasModel: true,
    })
    expect((await call('dataset.list', {})).map((d) => d.name)).toEqual(['Shapes'])
    // The dataset's pixels come back from disk in a fresh host.
    expect(await call('dataset.samples', { datasetId, count: 2, split: 'train' })).toHaveLength(2)
    const exported = await call('runs.export', {
      runId: firstRun,
      destination: join(workDir, 'out'),
      formats: ['tfjs', 'keras', 'onnx'],
    })
    expect(exported.files).toContain('report/report.html')
    expect(exported.files).toContain('model/weights.bin')
    // Converted by the real engine host: an HDF5 file and an ONNX model onnxruntime opens.
    expect(exported.files).toEqual(expect.arrayContaining(['model.h5', 'model.onnx']))
    const h5 = await readFile(join(exported.path, 'model.h5'))
    expect(h5.subarray(0, 8).toString('latin1')).toBe('\x89HDF\r\n\x1a\n')
    const session = await ort.InferenceSession.create(join(exported.path, 'model.onnx'))
    expect(session.inputNames).toEqual(['input'])
    await session.release()
  })
})
