import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { EngineApi } from '@engine/host/engineApi'
import { EngineHost } from '@engine/host/engineHost'
import type { HostCall, TrainJob, TrainReport } from '@engine/host/protocol'
import type { BackendRequest } from '@shared/schemas/backend'
import { resolveTrainConfig } from '@shared/trainConfig'
import type * as tf from '@tensorflow/tfjs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { createFakeEngine, writeModelFolder } from '../../main/helpers/fakeEngine'
import { testMetadata } from '../../helpers/modelFixtures'

let workDir: string

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'inklab-host-'))
})

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true })
})

/** A fake engine whose backend follows the request (auto picks native); records each request. */
function engineWithBackends(): EngineApi & { requests: BackendRequest[] } {
  const engine = createFakeEngine({ epochMs: 40 })
  const requests: BackendRequest[] = []
  return {
    ...engine,
    requests,
    async initBackend(request = 'auto') {
      requests.push(request)
      await new Promise((r) => setTimeout(r, 5))
      const name = request === 'auto' ? 'native' : request
      return { name, requested: request, tfjsBackend: name, detail: 'fake' }
    },
  }
}

function job(runId: string, config: Partial<TrainJob['config']> = {}): TrainJob {
  return {
    runId,
    name: runId,
    dataset: { id: 'builtin-mnist', kind: 'builtin', name: 'mnist' },
    config: resolveTrainConfig({ preset: 'fast', epochs: 1, ...config }),
    modelDir: join(workDir, runId, 'model'),
    checkpointDir: join(workDir, runId, 'checkpoint'),
    inklabVersion: '0.0.0',
  }
}

/** A call as `serveHost` makes one: its own abort controller, and the reports it received. */
function call<P = never>(): HostCall<P> & { controller: AbortController; reports: P[] } {
  const controller = new AbortController()
  const reports: P[] = []
  return { controller, reports, signal: controller.signal, progress: (p) => reports.push(p) }
}

const until = async (check: () => boolean): Promise<void> => {
  const end = Date.now() + 5000
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('EngineHost training', () => {
  it('refuses a concurrent run before it can switch the backend under the first', async () => {
    const engine = engineWithBackends()
    const host = new EngineHost({ engine })
    await host.initBackend('auto')
    const results = await Promise.allSettled([
      host.api['training.run'](job('a'), call()),
      host.api['training.run'](job('b', { backend: 'cpu' }), call()),
    ])
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { state: 'completed' } })
    expect(results[1].status).toBe('rejected')
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/already in progress/)
    expect(engine.requests).toEqual(['auto'])
    // The refused run left nothing reserved: the next one runs.
    expect(await host.api['training.run'](job('c'), call())).toMatchObject({ state: 'completed' })
    host.dispose()
  })

  it('reports the run as it goes, and cancelling the call stops it (paused or not)', async () => {
    const host = new EngineHost({ engine: engineWithBackends() })
    await host.initBackend('auto')
    const running = call<TrainReport>()
    const outcome = host.api['training.run'](job('r', { epochs: 50 }), running)
    await until(() => running.reports.some((r) => r.kind === 'batch'))
    expect(running.reports[0]).toMatchObject({ kind: 'started', backend: { name: 'native' } })
    expect(await host.api['training.pause']({ runId: 'r' })).toEqual({ ok: true })
    await until(() => running.reports.at(-1)?.kind === 'paused')
    expect(await host.api['training.pause']({ runId: 'other' })).toEqual({ ok: false })
    running.controller.abort()
    expect(await outcome).toMatchObject({ state: 'cancelled' })
    expect(running.reports.some((r) => r.kind === 'resumed')).toBe(false)
    host.dispose()
  })
})

/** A fake model that knows whether it was disposed. */
interface TrackedModel {
  dir: string
  disposed: boolean
  dispose(): void
}

describe('EngineHost backend choice', () => {
  it('goes back to the automatic backend after a run on an explicit one', async () => {
    const engine = engineWithBackends()
    const changes: string[] = []
    const host = new EngineHost({ engine, onBackendChange: (b) => changes.push(b.name) })
    await host.initBackend('auto')
    const started = async (runId: string, backend?: BackendRequest) => {
      const run = call<TrainReport>()
      await host.api['training.run'](job(runId, backend ? { backend } : {}), run)
      return run.reports[0]
    }
    expect(await started('a', 'cpu')).toMatchObject({ kind: 'started', backend: { name: 'cpu' } })
    expect(await started('b')).toMatchObject({
      kind: 'started',
      backend: { name: 'native', requested: 'auto' },
    })
    // Asking again for what is active does not re-initialise it.
    await started('c')
    expect(engine.requests).toEqual(['auto', 'cpu', 'auto'])
    expect(changes).toEqual(['cpu', 'native'])
    host.dispose()
  })
})

describe('EngineHost model cache', () => {
  it('keeps a model an evaluation is waiting to use until it is done, then frees it', async () => {
    const base = createFakeEngine()
    const loaded: TrackedModel[] = []
    let releaseDataset: () => void = () => undefined
    const datasetGate = new Promise<void>((resolve) => (releaseDataset = resolve))
    const engine: EngineApi = {
      ...base,
      async loadBuiltinMnist() {
        await datasetGate
        return base.loadBuiltinMnist()
      },
      async loadModel(dir) {
        const { metadata } = await base.loadModel(dir)
        const model: TrackedModel = {
          dir,
          disposed: false,
          dispose() {
            this.disposed = true
          },
        }
        loaded.push(model)
        return { model: model as unknown as tf.LayersModel, metadata }
      },
      evaluateModel(model, split, labels) {
        if ((model as unknown as TrackedModel).disposed) throw new Error('tensor is disposed')
        return base.evaluateModel(model, split, labels)
      },
    }
    const host = new EngineHost({ engine })
    const dirs = ['a', 'b', 'c'].map((name) => join(workDir, name))
    for (const dir of dirs) {
      await writeModelFolder(
        dir,
        testMetadata({
          name: dir,
          labels: ['0', '1', '2'],
          dataset: { name: 'MNIST', source: 'builtin:mnist', trainSize: 30, testSize: 9 },
          preset: 'fast',
          metrics: { epochs: 1, seconds: 1, samplesPerSecond: 1 },
        }),
      )
    }
    const evaluating = host.api['evaluation.run'](
      {
        modelDir: dirs[0],
        dataset: { id: 'builtin-mnist', kind: 'builtin', name: 'mnist' },
        split: { split: 'test', settings: { limit: 0, validationSplit: 0.1, seed: 1 } },
      },
      call(),
    )
    await new Promise((r) => setTimeout(r, 20))
    // Two other models push the first one out of the cache while the evaluation waits for data.
    const image = { width: 2, height: 2, data: Buffer.alloc(4, 200).toString('base64') }
    await host.api['classify.image']({ modelDir: dirs[1], image })
    await host.api['classify.image']({ modelDir: dirs[2], image })
    expect(loaded.find((m) => m.dir === dirs[0])?.disposed).toBe(false)
    releaseDataset()
    const report = await evaluating
    expect(report.count).toBeGreaterThan(0)
    expect(loaded.find((m) => m.dir === dirs[0])?.disposed).toBe(true)
    expect(loaded.filter((m) => m.disposed)).toHaveLength(1)
    host.dispose()
  })
})

describe('EngineHost classification', () => {
  it('reads drawings and files with test-time augmentation', async () => {
    const base = createFakeEngine()
    const options: unknown[] = []
    const engine: EngineApi = {
      ...base,
      predictPixels(model, pixels, labels, opts) {
        options.push(opts)
        return base.predictPixels(model, pixels, labels, opts)
      },
    }
    const host = new EngineHost({ engine })
    const dir = join(workDir, 'model')
    await writeModelFolder(
      dir,
      testMetadata({
        labels: ['0', '1', '2'],
        dataset: { name: 'MNIST', source: 'builtin:mnist', trainSize: 30, testSize: 9 },
        preset: 'fast',
        metrics: { epochs: 1, seconds: 1, samplesPerSecond: 1 },
      }),
    )
    // A dark bar on white paper, as the pad sends it.
    const data = Buffer.alloc(28 * 28, 255)
    for (let y = 6; y < 22; y++) data[y * 28 + 13] = 0
    await host.api['classify.image']({
      modelDir: dir,
      image: { width: 28, height: 28, data: data.toString('base64') },
    })
    expect(options).toEqual([{ tta: true }])
    host.dispose()
  })
})
