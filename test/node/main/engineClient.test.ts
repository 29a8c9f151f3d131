import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { EngineClient, type EngineStatus } from '../../../src/main/services/engineClient'
import { forkTransport } from '../../../src/main/services/forkTransport'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inklab-client-'))
  // A minimal host: ready at once, echoes params, dies on request.
  await writeFile(
    join(dir, 'host.cjs'),
    `process.send({ type: 'ready', backend: null, error: { name: 'Error', message: 'no backend here' } })
process.on('message', (m) => {
  if (m.method === 'training.stop') process.exit(3)
  process.send({ type: 'event', event: { name: 'dataset.progress', payload: { phase: 'done', done: 1, total: 1 } } })
  process.send({ type: 'response', id: m.id, result: { echoed: m.params } })
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

  it('answers requests, forwards events, fails pending calls on a crash and restarts', async () => {
    const events: string[] = []
    const crashes: string[] = []
    const statuses: EngineStatus[] = []
    const client = new EngineClient({
      createTransport: forkTransport({ entry: join(dir, 'host.cjs') }),
      onEvent: (event) => events.push(event.name),
      onStatus: (status) => statuses.push(status),
      onCrash: (_exit, message) => crashes.push(message),
    })
    const answer = await client.call('dataset.forget', { id: 'a' })
    expect(answer).toEqual({ echoed: { id: 'a' } })
    expect(events).toEqual(['dataset.progress'])
    expect(statuses[0]).toEqual({ running: true, backend: null, error: 'no backend here' })
    const firstPid = client.pid

    await expect(client.call('training.stop', { runId: 'r' })).rejects.toMatchObject({
      name: 'EngineStopped',
      message: expect.stringMatching(/exit code 3.*training.stop/),
    })
    expect(crashes).toEqual(['the engine process exited unexpectedly (exit code 3)'])
    expect(client.started).toBe(false)

    expect(await client.call('dataset.forget', { id: 'b' })).toEqual({ echoed: { id: 'b' } })
    expect(client.pid).not.toBe(firstPid)
    await client.close()
    expect(statuses.at(-1)).toEqual({ running: false, backend: null })
    expect(crashes).toHaveLength(1)
    await expect(client.call('dataset.forget', { id: 'c' })).rejects.toThrow(/stopped/)
  })
})
