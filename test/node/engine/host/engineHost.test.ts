import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { EngineApi } from '@engine/host/engineApi'
import { EngineHost } from '@engine/host/engineHost'
import type { HostEvent, TrainJob } from '@engine/host/protocol'
import type { BackendRequest } from '@shared/schemas/backend'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { createFakeEngine } from '../../main/helpers/fakeEngine'

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
    async initBackend(request) {
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
