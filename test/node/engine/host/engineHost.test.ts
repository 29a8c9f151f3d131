import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { EngineApi } from '@engine/host/engineApi'
import { EngineHost } from '@engine/host/engineHost'
import type { HostEvent, TrainJob } from '@engine/host/protocol'
import type { BackendRequest } from '@shared/schemas/backend'
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
    config: { preset: 'fast', epochs: 1, ...config },
    modelDir: join(workDir, runId, 'model'),
    checkpointDir: join(workDir, runId, 'checkpoint'),
    inklabVersion: '0.0.0',
  }
}

function finished(events: HostEvent[], runId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + 5000
    const check = (): void => {
      if (events.some((e) => e.name === 'training.finished' && e.payload.runId === runId)) resolve()
      else if (Date.now() > end) reject(new Error(`run ${runId} did not finish`))
      else setTimeout(check, 10)
    }
    check()
  })
}

describe('EngineHost training', () => {
  it('refuses a concurrent start before it can switch the backend under the first', async () => {
    const engine = engineWithBackends()
    const events: HostEvent[] = []
    const host = new EngineHost({ engine, emit: (e) => events.push(e) })
    await host.initBackend('auto')
    const results = await Promise.allSettled([
      host.handle('training.start', job('a')),
      host.handle('training.start', job('b', { backend: 'cpu' })),
    ])
    expect(results[0].status).toBe('fulfilled')
    expect(results[1].status).toBe('rejected')
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/already in progress/)
    expect(engine.requests).toEqual(['auto'])
    await finished(events, 'a')
    // The refused start left nothing reserved: the next one runs.
    await host.handle('training.start', job('c'))
    await finished(events, 'c')
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
    const events: HostEvent[] = []
    const host = new EngineHost({ engine, emit: (e) => events.push(e) })
    await host.initBackend('auto')
    const onCpu = await host.handle('training.start', job('a', { backend: 'cpu' }))
    expect(onCpu.backend.name).toBe('cpu')
    await finished(events, 'a')
    const onAuto = await host.handle('training.start', job('b'))
    expect(onAuto.backend).toMatchObject({ name: 'native', requested: 'auto' })
    await finished(events, 'b')
    // Asking again for what is active does not re-initialise it.
    await host.handle('training.start', job('c'))
    await finished(events, 'c')
    expect(engine.requests).toEqual(['auto', 'cpu', 'auto'])
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
    const host = new EngineHost({ engine, emit: () => undefined })
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
    const evaluating = host.handle('evaluation.run', {
      modelDir: dirs[0],
      dataset: { id: 'builtin-mnist', kind: 'builtin', name: 'mnist' },
      split: { kind: 'test' },
    })
    await new Promise((r) => setTimeout(r, 20))
    // Two other models push the first one out of the cache while the evaluation waits for data.
    const image = { width: 2, height: 2, data: Buffer.alloc(4, 200).toString('base64') }
    await host.handle('classify.image', { modelDir: dirs[1], image })
    await host.handle('classify.image', { modelDir: dirs[2], image })
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
    const host = new EngineHost({ engine, emit: () => undefined })
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
    await host.handle('classify.image', {
      modelDir: dir,
      image: { width: 28, height: 28, data: data.toString('base64') },
    })
    expect(options).toEqual([{ tta: true }])
    host.dispose()
  })
})
