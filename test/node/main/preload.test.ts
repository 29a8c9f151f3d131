import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '@shared/contract'
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'

import * as electron from './helpers/electronMock'
import type { PreloadApi } from '../../../src/preload/bridge'

describe('preload', () => {
  let api: PreloadApi

  beforeAll(async () => {
    electron.resetElectronMock()
    // Importing the preload runs it: it exposes its object through the mocked contextBridge.
    await import('../../../src/preload/index')
    api = electron.contextBridge.exposed.get('inklab') as PreloadApi
  })

  beforeEach(() => {
    electron.ipcRenderer.invocations.length = 0
  })

  it('exposes one frozen object with invoke, on and getPathForFile only', () => {
    expect([...electron.contextBridge.exposed.keys()]).toEqual(['inklab'])
    expect(Object.isFrozen(api)).toBe(true)
    expect(Object.keys(api).sort()).toEqual(['getPathForFile', 'invoke', 'on'])
    expect(() => {
      ;(api as unknown as Record<string, unknown>).invoke = () => 1
    }).toThrow()
  })

  it('rejects unknown routes and invalid input before sending anything', async () => {
    await expect(api.invoke('fs.read' as never, {} as never)).rejects.toThrow(/Unknown route/)
    await expect(api.invoke('runs.get', { runId: '' })).rejects.toThrow(
      /Invalid input for runs.get: runId/,
    )
    await expect(
      api.invoke('dataset.samples', { datasetId: 'd', count: 100000 } as never),
    ).rejects.toThrow(/count/)
    expect(electron.ipcRenderer.invocations).toHaveLength(0)
  })

  it('sends validated input on the invoke channel and validates the answer', async () => {
    electron.ipcRenderer.invokeImpl = async () => ({ ok: true, result: { ok: true } })
    await expect(api.invoke('runs.delete', { runId: 'r1' })).resolves.toEqual({ ok: true })
    expect(electron.ipcRenderer.invocations[0]).toEqual({
      channel: IPC_INVOKE_CHANNEL,
      args: [{ name: 'runs.delete', input: { runId: 'r1' } }],
    })
    electron.ipcRenderer.invokeImpl = async () => ({ ok: true, result: { ok: 'nope' } })
    await expect(api.invoke('runs.delete', { runId: 'r1' })).rejects.toThrow(/Invalid answer/)
    electron.ipcRenderer.invokeImpl = async () => ({
      ok: false,
      error: { name: 'NotFoundError', message: 'no run with id "r1"' },
    })
    await expect(api.invoke('runs.delete', { runId: 'r1' })).rejects.toMatchObject({
      name: 'NotFoundError',
      message: 'no run with id "r1"',
    })
  })

  it('delivers only declared events with valid payloads, and unsubscribes', () => {
    const seen: unknown[] = []
    const off = api.on('dataset.progress', (payload) => seen.push(payload))
    expect(() => api.on('secret.event' as never, () => undefined)).toThrow(/Unknown event/)
    const payload = { phase: 'decoding', done: 1, total: 3 }
    electron.ipcRenderer.emit(IPC_EVENT_CHANNEL, {}, { name: 'dataset.progress', payload })
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    electron.ipcRenderer.emit(
      IPC_EVENT_CHANNEL,
      {},
      { name: 'dataset.progress', payload: { phase: 'x' } },
    )
    warn.mockRestore()
    electron.ipcRenderer.emit(IPC_EVENT_CHANNEL, {}, { name: 'other', payload })
    expect(seen).toEqual([payload])
    off()
    expect(electron.ipcRenderer.listenerCount(IPC_EVENT_CHANNEL)).toBe(0)
    electron.ipcRenderer.emit(IPC_EVENT_CHANNEL, {}, { name: 'dataset.progress', payload })
    expect(seen).toHaveLength(1)
  })

  it('gets dropped file paths through webUtils', () => {
    expect(api.getPathForFile({ path: '/tmp/a.png' } as unknown as File)).toBe('/tmp/a.png')
  })
})
