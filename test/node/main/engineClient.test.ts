import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { EngineClient, type EngineStatus } from '../../../src/main/services/engineClient'
import { forkTransport } from '../../../src/main/services/forkTransport'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inklab-client-'))
  // A minimal host: ready at once, reports progress and echoes params, waits for a cancel on
  // training.run, dies (saying why on stderr) on training.pause.
  await writeFile(
    join(dir, 'host.cjs'),
    `process.send({ type: 'ready', backend: null, error: { name: 'Error', message: 'no backend here' } })
const waiting = new Map()
process.on('message', (m) => {
  if (m.type === 'cancel') {
    process.send({ type: 'response', id: m.id, result: { cancelled: waiting.get(m.id) } })
    return
  }
  if (m.method === 'training.pause') {
    process.stderr.write('FATAL: out of ink\\n')
    setTimeout(() => process.exit(3), 50)
    return
  }
  process.send({ type: 'progress', id: m.id, value: { phase: 'done', done: 1, total: 1 } })
  if (m.method === 'training.run') waiting.set(m.id, m.params.runId)
  else process.send({ type: 'response', id: m.id, result: { echoed: m.params } })
})`,
  )
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('EngineClient over child_process.fork', () => {
  it('reports a host that cannot start, then starts a working one on the next call', async () => {
    const statuses: EngineStatus[] = []
    const broken = new EngineClient({
      createTransport: forkTransport({ entry: join(dir, 'missing.cjs'), stdio: 'ignore' }),
      onStatus: (status) => statuses.push(status),
    })
    await expect(broken.call('dataset.forget', { id: 'x' })).rejects.toThrow(/exit code 1/)
    expect(statuses.at(-1)).toMatchObject({
      running: false,
      error: expect.stringMatching(/exit code 1/),
    })
    expect(broken.started).toBe(false)
  })

  it('answers calls with their progress, cancels them, fails them on a crash and restarts', async () => {
    const statuses: EngineStatus[] = []
    const client = new EngineClient({
      createTransport: forkTransport({ entry: join(dir, 'host.cjs'), stdio: 'ignore' }),
      onStatus: (status) => statuses.push(status),
    })
    const progress: unknown[] = []
    const answer = await client.call(
      'dataset.importFolder',
      { id: 'a', path: '/x', saveDir: '/y' },
      { onProgress: (p) => progress.push(p) },
    )
    expect(answer).toEqual({ echoed: { id: 'a', path: '/x', saveDir: '/y' } })
    expect(progress).toEqual([{ phase: 'done', done: 1, total: 1 }])
    expect(statuses[0]).toEqual({ running: true, backend: null, error: 'no backend here' })
    const firstPid = client.pid

    // Cancellation travels with the call: the host hears of it under the call's id.
    const controller = new AbortController()
    const running = client.call('training.run', { runId: 'r9' } as never, {
      signal: controller.signal,
    })
    await new Promise((r) => setTimeout(r, 50))
    controller.abort()
    expect(await running).toEqual({ cancelled: 'r9' })
    // Aborted while the call still waited for the host: the cancel follows the request.
    const early = new AbortController()
    const waiting = client.call('training.run', { runId: 'r10' } as never, { signal: early.signal })
    early.abort()
    expect(await waiting).toEqual({ cancelled: 'r10' })
    await expect(
      client.call('dataset.forget', { id: 'x' }, { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' })

    // A crash fails the call in flight, and says what the process last wrote.
    await expect(client.call('training.pause', { runId: 'r' })).rejects.toMatchObject({
      name: 'EngineStopped',
      message: expect.stringMatching(/exit code 3.*out of ink.*training.pause/),
    })
    expect(statuses.at(-1)).toMatchObject({
      running: false,
      error: expect.stringMatching(/exit code 3\); its last words: FATAL: out of ink$/),
    })
    expect(client.started).toBe(false)

    expect(await client.call('dataset.forget', { id: 'b' })).toEqual({ echoed: { id: 'b' } })
    expect(client.pid).not.toBe(firstPid)
    await client.close()
    expect(statuses.at(-1)).toEqual({ running: false, backend: null })
    await expect(client.call('dataset.forget', { id: 'c' })).rejects.toThrow(/stopped/)
  })
})
