import { join } from 'node:path'

import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  protocol,
  session,
  shell,
  type IpcMainInvokeEvent,
  type OpenDialogOptions,
} from 'electron'

import { IPC_EVENT_CHANNEL } from '@shared/contract'

import { createServices, type DesktopIntegration } from '../services/services'
import { registerIpc } from './ipc'
import { rendererProtocolHandler, RENDERER_SCHEME_PRIVILEGES } from './rendererProtocol'
import {
  isTrustedFrame,
  RENDERER_SCHEME,
  withContentSecurityPolicy,
  type TrustedRenderer,
} from './security'
import { utilityTransport } from './utilityTransport'
import { createMainWindow, hardenWebContents } from './window'

/** Files the app needs, from the built main bundle's folder (`out/main`). */
export interface AppPaths {
  preload: string
  /** The built renderer, served through the app's scheme. */
  rendererDir: string
  hostEntry: string
  resourcesDir: string
}

/** Paths of the built app: `out/{preload,renderer}` beside `out/main`, resources per packaging. */
export function appPaths(mainDir: string, packaged: boolean, resourcesPath?: string): AppPaths {
  return {
    preload: join(mainDir, '..', 'preload', 'index.cjs'),
    rendererDir: join(mainDir, '..', 'renderer'),
    hostEntry: join(mainDir, 'engineHost.js'),
    resourcesDir:
      packaged && resourcesPath ? resourcesPath : join(mainDir, '..', '..', 'resources'),
  }
}

/** Electron's `dialog.open` options for a contract `dialog.open` call. */
export function openDialogOptions(input: {
  kind: 'folder' | 'files'
  title?: string
  filters?: { name: string; extensions: string[] }[]
}): OpenDialogOptions {
  return {
    ...(input.title ? { title: input.title } : {}),
    properties: input.kind === 'folder' ? ['openDirectory'] : ['openFile', 'multiSelections'],
    ...(input.filters ? { filters: input.filters } : {}),
  }
}

/**
 * The desktop app: one hardened window showing the renderer through the app's own scheme, the
 * services in this (main) process, the engine in a utility process, IPC from the window's main
 * frame only, and no permission granted to web content.
 */
export async function runApp(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  const resourcesPath = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath
  const paths = appPaths(__dirname, app.isPackaged, resourcesPath)
  const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined
  const renderer: TrustedRenderer = devUrl
    ? { kind: 'url', url: devUrl }
    : { kind: 'app', rendererDir: paths.rendererDir }

  // Before ready, or the scheme is not a secure, standard origin.
  protocol.registerSchemesAsPrivileged([
    { scheme: RENDERER_SCHEME, privileges: RENDERER_SCHEME_PRIVILEGES },
  ])
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, renderer))
  await app.whenReady()

  if (renderer.kind === 'app') {
    protocol.handle(RENDERER_SCHEME, rendererProtocolHandler(renderer.rendererDir))
  }
  // The dev server's responses get the same policy as the app's scheme sets itself.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) })
  })
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  )
  session.defaultSession.setPermissionCheckHandler(() => false)

  let window: BrowserWindow | null = null
  const desktop: DesktopIntegration = {
    async openDialog(input) {
      const options = openDialogOptions(input)
      const result = window
        ? await dialog.showOpenDialog(window, options)
        : await dialog.showOpenDialog(options)
      return result.canceled || result.filePaths.length === 0 ? null : result.filePaths
    },
    reveal: (path) => shell.showItemInFolder(path),
  }
  const services = createServices({
    dataDir: app.getPath('userData'),
    resourcesDir: paths.resourcesDir,
    transport: utilityTransport({ entry: paths.hostEntry }),
    version: app.getVersion(),
    desktop,
  })
  registerIpc({
    ipcMain,
    services,
    isTrustedSender: (event: IpcMainInvokeEvent) =>
      window !== null &&
      !window.isDestroyed() &&
      event.sender.id === window.webContents.id &&
      isTrustedFrame(event.senderFrame, renderer),
  })
  services.events.on((event) => {
    if (window && !window.isDestroyed() && !window.webContents.isDestroyed()) {
      window.webContents.send(IPC_EVENT_CHANNEL, event)
    }
  })
  services.engine.start().catch(() => undefined)

  const open = (): void => {
    const created = createMainWindow({ preload: paths.preload, renderer })
    created.on('closed', () => {
      if (window === created) window = null
    })
    window = created
  }
  open()

  app.on('second-instance', () => {
    if (!window) return
    if (window.isMinimized()) window.restore()
    window.focus()
  })
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) open()
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('before-quit', () => {
    void services.close()
  })
}
