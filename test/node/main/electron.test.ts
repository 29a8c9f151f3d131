import { pathToFileURL } from 'node:url'

import { IPC_INVOKE_CHANNEL } from '@shared/contract'
import { CONTENT_SECURITY_POLICY } from '@shared/csp'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'

import * as electron from './helpers/electronMock'
import { appPaths, openDialogOptions } from '../../../src/main/electron/app'
import { registerIpc } from '../../../src/main/electron/ipc'
import { rendererProtocolHandler } from '../../../src/main/electron/rendererProtocol'
import {
  isTrustedFrame,
  isTrustedUrl,
  RENDERER_INDEX_URL,
  withContentSecurityPolicy,
  type TrustedRenderer,
} from '../../../src/main/electron/security'
import { hardenWebContents, mainWindowOptions } from '../../../src/main/electron/window'
import type { Handlers } from '../../../src/main/services/services'

const indexPath = '/opt/inklab/out/renderer/index.html'
const fileRenderer: TrustedRenderer = { kind: 'app', rendererDir: '/opt/inklab/out/renderer' }
const devRenderer: TrustedRenderer = { kind: 'url', url: 'http://localhost:5173/' }
const ourUrl = RENDERER_INDEX_URL

beforeEach(() => electron.resetElectronMock())

describe('renderer trust checks', () => {
  it('trusts only our page', () => {
    expect(ourUrl).toBe('inklab://app/index.html')
    expect(isTrustedUrl(ourUrl, fileRenderer)).toBe(true)
    expect(isTrustedUrl(`${ourUrl}#/models`, fileRenderer)).toBe(true)
    // The built page is never a file:// page, and no other host of the scheme is ours.
    expect(isTrustedUrl(pathToFileURL(indexPath).href, fileRenderer)).toBe(false)
    expect(isTrustedUrl('file:///etc/passwd', fileRenderer)).toBe(false)
    expect(isTrustedUrl('inklab://other/index.html', fileRenderer)).toBe(false)
    expect(isTrustedUrl('inklab://user:pw@app/index.html', fileRenderer)).toBe(false)
    expect(isTrustedUrl('https://evil.example/', fileRenderer)).toBe(false)
    expect(isTrustedUrl('not a url', fileRenderer)).toBe(false)
    expect(isTrustedUrl('http://localhost:5173/src/main.ts', devRenderer)).toBe(true)
    expect(isTrustedUrl('http://localhost:5174/', devRenderer)).toBe(false)
    expect(isTrustedUrl('http://127.0.0.1:5173/', devRenderer)).toBe(false)
  })

  it('accepts the main frame only', () => {
    expect(isTrustedFrame({ url: ourUrl, parent: null }, fileRenderer)).toBe(true)
    expect(isTrustedFrame({ url: ourUrl, parent: { url: ourUrl } }, fileRenderer)).toBe(false)
    expect(isTrustedFrame(null, fileRenderer)).toBe(false)
    expect(isTrustedFrame({ url: 'https://evil.example/', parent: null }, fileRenderer)).toBe(false)
  })

  it('sets our CSP on responses, replacing theirs', () => {
    const headers = withContentSecurityPolicy({
      'content-security-policy': ['default-src *'],
      'Content-Type': ['text/html'],
    })
    expect(headers).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    })
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'")
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval')
  })
})

describe('IPC', () => {
  function setup() {
    const handlers = {
      'runs.delete': vi.fn(async () => ({ ok: true })),
    } as unknown as Handlers
    const webContents = new electron.FakeWebContents()
    const dispose = registerIpc({
      ipcMain: electron.ipcMain as never,
      services: { handlers },
      isTrustedSender: (event) =>
        event.sender.id === webContents.id && isTrustedFrame(event.senderFrame, fileRenderer),
    })
    return { handlers, webContents, dispose }
  }

  it('dispatches calls from our main frame', async () => {
    const { webContents, handlers } = setup()
    const event = { sender: webContents, senderFrame: { url: ourUrl, parent: null } }
    const result = await electron.ipcMain.invokeHandler(IPC_INVOKE_CHANNEL, event, {
      name: 'runs.delete',
      input: { runId: 'r' },
    })
    expect(result).toEqual({ ok: true, result: { ok: true } })
    expect(handlers['runs.delete']).toHaveBeenCalledWith({ runId: 'r' }, { transport: 'ipc' })
  })

  it('refuses a foreign frame, another web contents and a vanished frame', async () => {
    const { webContents, handlers } = setup()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const call = { name: 'runs.delete', input: { runId: 'r' } }
    const iframe = { sender: webContents, senderFrame: { url: 'https://ads.example/', parent: {} } }
    const other = {
      sender: new electron.FakeWebContents(),
      senderFrame: { url: ourUrl, parent: null },
    }
    const gone = { sender: webContents, senderFrame: null }
    for (const event of [iframe, other, gone]) {
      const result = await electron.ipcMain.invokeHandler(IPC_INVOKE_CHANNEL, event, call)
      expect(result).toMatchObject({ ok: false, error: { name: 'Forbidden' } })
    }
    warn.mockRestore()
    expect(handlers['runs.delete']).not.toHaveBeenCalled()
  })

  it('validates what arrives like any transport, and unregisters', async () => {
    const { webContents, dispose } = setup()
    const event = { sender: webContents, senderFrame: { url: ourUrl, parent: null } }
    expect(await electron.ipcMain.invokeHandler(IPC_INVOKE_CHANNEL, event, 'junk')).toMatchObject({
      ok: false,
      error: { name: 'UnknownRoute' },
    })
    dispose()
    expect(electron.ipcMain.handlers.has(IPC_INVOKE_CHANNEL)).toBe(false)
  })
})

describe('window', () => {
  it('is isolated, sandboxed and without Node', () => {
    const options = mainWindowOptions('/app/out/preload/index.cjs')
    expect(options).toMatchObject({ width: 1280, height: 800, minWidth: 1024, minHeight: 700 })
    expect(options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    })
  })

  it('blocks a frame navigating away, whatever frame it is', () => {
    const contents = new electron.FakeWebContents()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    hardenWebContents(contents as never, fileRenderer)
    const frameNavigate = (url: string, isMainFrame: boolean): boolean => {
      const details = {
        url,
        isMainFrame,
        prevented: false,
        preventDefault() {
          this.prevented = true
        },
      }
      contents.emit('will-frame-navigate', details)
      return details.prevented
    }
    expect(frameNavigate('https://ads.example/frame', false)).toBe(true)
    expect(frameNavigate('https://evil.example/', true)).toBe(true)
    expect(frameNavigate(`${ourUrl}#/draw`, true)).toBe(false)
    warn.mockRestore()
  })

  it('blocks navigation away from our page, new windows and webviews', () => {
    const contents = new electron.FakeWebContents()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    hardenWebContents(contents as never, fileRenderer)
    const navigate = (url: string): boolean => {
      const event = {
        prevented: false,
        preventDefault() {
          this.prevented = true
        },
      }
      contents.emit('will-navigate', event, url)
      return event.prevented
    }
    expect(navigate('https://evil.example/')).toBe(true)
    expect(navigate('file:///etc/passwd')).toBe(true)
    expect(navigate(ourUrl)).toBe(false)
    expect(contents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' })
    const attach = {
      prevented: false,
      preventDefault() {
        this.prevented = true
      },
    }
    contents.emit('will-attach-webview', attach)
    expect(attach.prevented).toBe(true)
    warn.mockRestore()
  })

  it('finds the built files and resources', () => {
    const dev = appPaths('/repo/out/main', false)
    expect(dev).toEqual({
      preload: '/repo/out/preload/index.cjs',
      rendererDir: '/repo/out/renderer',
      hostEntry: '/repo/out/main/engineHost.js',
      resourcesDir: '/repo/resources',
    })
    expect(appPaths('/x/app.asar/out/main', true, '/x').resourcesDir).toBe('/x')
    expect(openDialogOptions({ kind: 'folder', title: 'Pick' })).toEqual({
      title: 'Pick',
      properties: ['openDirectory'],
    })
    expect(openDialogOptions({ kind: 'files' }).properties).toEqual(['openFile', 'multiSelections'])
  })
})

describe('the app scheme', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'inklab-scheme-'))
    await mkdir(join(dir, 'renderer', 'assets'), { recursive: true })
    await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>InkLab</title>')
    await writeFile(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)')
    await writeFile(join(dir, 'secret.txt'), 'TOP-SECRET')
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('serves the built renderer with the CSP, and nothing outside it', async () => {
    const handler = rendererProtocolHandler(join(dir, 'renderer'))
    const page = await handler(new Request('inklab://app/index.html'))
    expect(page.status).toBe(200)
    expect(page.headers.get('Content-Security-Policy')).toBe(CONTENT_SECURITY_POLICY)
    expect(page.headers.get('Content-Type')).toMatch(/^text\/html/)
    expect(await page.text()).toContain('<title>InkLab</title>')
    const script = await handler(new Request('inklab://app/assets/app.js'))
    expect(script.headers.get('Content-Type')).toMatch(/^text\/javascript/)
    // A client-side route gets the page; a way out of the folder gets nothing.
    expect(await (await handler(new Request('inklab://app/models'))).text()).toContain('InkLab')
    for (const url of [
      'inklab://app/..%2Fsecret.txt',
      'inklab://app/%2e%2e/secret.txt',
      'inklab://app/assets/..%2F..%2Fsecret.txt',
    ]) {
      const response = await handler(new Request(url))
      expect([403, 404], url).toContain(response.status)
      expect(await response.text()).not.toContain('TOP-SECRET')
    }
    expect((await handler(new Request('inklab://elsewhere/index.html'))).status).toBe(404)
  })
})

describe('CSP in index.html', () => {
  it('matches the shared policy (the meta tag is what a page shown without headers gets)', async () => {
    const { readFile } = await import('node:fs/promises')
    const { CONTENT_SECURITY_POLICY_META } = await import('@shared/csp')
    const html = await readFile(
      new URL('../../../src/renderer/index.html', import.meta.url),
      'utf8',
    )
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1]
    expect(meta, 'index.html has a CSP meta tag').toBeDefined()
    const directives = (policy: string): string[] =>
      policy
        .split(';')
        .map((d) => d.trim().replace(/\s+/g, ' '))
        .filter((d) => d && !d.startsWith('frame-ancestors'))
        .sort()
    expect(directives(meta ?? '')).toEqual(directives(CONTENT_SECURITY_POLICY_META))
  })
})
