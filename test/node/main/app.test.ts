import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '@shared/contract'
import { CONTENT_SECURITY_POLICY } from '@shared/csp'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { runApp } from '../../../src/main/electron/app'
import { utilityTransport } from '../../../src/main/electron/utilityTransport'
import * as electron from './helpers/electronMock'

let userData: string

beforeAll(async () => {
  userData = await mkdtemp(join(tmpdir(), 'inklab-app-'))
})
afterAll(async () => {
  electron.app.emit('before-quit')
  await rm(userData, { recursive: true, force: true })
})

const BACKEND = { name: 'wasm', requested: 'auto', tfjsBackend: 'wasm', detail: 'fake' }

describe('the Electron app wiring (through the electron mock)', () => {
  it('opens one hardened window, sets the CSP, starts the engine host and answers trusted IPC', async () => {
    electron.resetElectronMock()
    electron.app.paths.userData = userData
    await runApp()

    expect(electron.BrowserWindow.created).toHaveLength(1)
    const win = electron.BrowserWindow.created[0]
    expect(win.options).toMatchObject({ width: 1280, height: 800, minWidth: 1024, minHeight: 700 })
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: expect.stringMatching(/preload[\\/]index\.cjs$/),
    })
    // The page comes from the app's own scheme, registered as privileged before ready.
    expect(win.loaded).toBe('inklab://app/index.html')
    expect(electron.protocol.privileged).toEqual([
      {
        scheme: 'inklab',
        privileges: { standard: true, secure: true, supportFetchAPI: true },
        beforeReady: true,
      },
    ])
    expect(electron.protocol.handlers.has('inklab')).toBe(true)

    // The engine host runs in a utility process.
    const child = electron.utilityProcess.forked[0]
    expect(child.modulePath).toMatch(/engineHost\.js$/)
    expect(child.options).toMatchObject({ serviceName: 'InkLab engine', stdio: 'pipe' })

    // CSP on every response; permission requests denied.
    const callback = vi.fn()
    electron.session.defaultSession.headersListener?.(
      { url: 'http://x', responseHeaders: {} },
      callback,
    )
    expect(callback).toHaveBeenCalledWith({
      responseHeaders: { 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    })
    const grant = vi.fn()
    electron.session.defaultSession.permissionHandler?.({}, 'media', grant)
    expect(grant).toHaveBeenCalledWith(false)
    // Permission checks (not only requests) are refused too.
    expect(electron.session.defaultSession.permissionCheckHandler?.(null, 'clipboard-read')).toBe(
      false,
    )

    // Every web contents gets the navigation guard.
    const contents = new electron.FakeWebContents()
    electron.app.emit('web-contents-created', {}, contents)
    expect(contents.windowOpenHandler?.({ url: 'https://x' })).toEqual({ action: 'deny' })

    // IPC from our page's main frame is answered; from elsewhere it is refused.
    const ourUrl = win.loaded as string
    const call = { name: 'app.info', input: {} }
    const trusted = await electron.ipcMain.invokeHandler(
      IPC_INVOKE_CHANNEL,
      { sender: win.webContents, senderFrame: { url: ourUrl, parent: null } },
      call,
    )
    expect(trusted).toMatchObject({
      ok: true,
      result: { transport: 'ipc', nativeDialogs: true, dataDir: userData },
    })
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const foreign = await electron.ipcMain.invokeHandler(
      IPC_INVOKE_CHANNEL,
      { sender: win.webContents, senderFrame: { url: 'https://evil.example/', parent: null } },
      call,
    )
    warn.mockRestore()
    expect(foreign).toMatchObject({ ok: false, error: { name: 'Forbidden' } })

    // Host messages become events sent to the window.
    child.spawn()
    child.emit('message', { type: 'ready', backend: BACKEND })
    await new Promise((r) => setImmediate(r))
    expect(win.webContents.sent).toContainEqual({
      channel: IPC_EVENT_CHANNEL,
      args: [{ name: 'engine.status', payload: { running: true, backend: BACKEND } }],
    })
  })
})

describe('utilityTransport', () => {
  it('queues messages until the process has spawned and reports its exit with its last error', async () => {
    electron.resetElectronMock()
    const transport = utilityTransport({ entry: '/app/out/main/engineHost.js', backend: 'wasm' })()
    const child = electron.utilityProcess.forked[0]
    expect((child.options.env as Record<string, string>).INKLAB_BACKEND).toBe('wasm')
    const request = {
      type: 'request',
      id: 1,
      method: 'dataset.forget',
      params: { id: 'x' },
    } as const
    transport.send(request)
    expect(child.posted).toEqual([])
    child.spawn(77)
    expect(child.posted).toEqual([request])
    expect(transport.pid).toBe(77)
    const received: unknown[] = []
    transport.onMessage((m) => received.push(m))
    child.emit('message', { type: 'ready', backend: null })
    expect(received).toEqual([{ type: 'ready', backend: null }])
    const exits: unknown[] = []
    transport.onExit((exit) => exits.push(exit))
    const written = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    child.stderr.write('Error: the weights would not fit\n')
    await new Promise((r) => setImmediate(r))
    child.exit(9)
    await new Promise((r) => setImmediate(r))
    expect(written).toHaveBeenCalledWith('[engine] Error: the weights would not fit\n')
    written.mockRestore()
    expect(exits).toEqual([{ code: 9, lastOutput: 'Error: the weights would not fit' }])
    transport.send(request)
    expect(child.posted).toHaveLength(1)
  })
})
