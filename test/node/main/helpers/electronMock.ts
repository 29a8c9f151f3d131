// Fakes of the Electron APIs InkLab uses (re-exported by test/mocks/electron.ts, the 'electron' alias). Each records what
// the code under test did with it; `resetElectronMock()` clears the records between tests.
import { EventEmitter } from 'node:events'
import { PassThrough } from 'node:stream'

type Listener = (...args: unknown[]) => unknown

/** A fake `WebContents`: an EventEmitter that records `send` calls and the window-open handler. */
export class FakeWebContents extends EventEmitter {
  static nextId = 1
  readonly id = FakeWebContents.nextId++
  readonly sent: { channel: string; args: unknown[] }[] = []
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null
  mainFrame = { url: '', parent: null, top: null, origin: '', processId: 1, routingId: 1 }
  destroyed = false

  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args })
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
  getURL(): string {
    return this.mainFrame.url
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler
  }
}

/** A fake `BrowserWindow` that remembers its options and what it loaded. */
export class BrowserWindow extends EventEmitter {
  static readonly created: BrowserWindow[] = []
  static getAllWindows(): BrowserWindow[] {
    return BrowserWindow.created.filter((w) => !w.destroyed)
  }
  readonly webContents = new FakeWebContents()
  loaded: string | null = null
  destroyed = false

  constructor(readonly options: Record<string, unknown> = {}) {
    super()
    BrowserWindow.created.push(this)
  }
  async loadURL(url: string): Promise<void> {
    this.loaded = url
  }
  async loadFile(file: string): Promise<void> {
    this.loaded = file
  }
  show(): void {}
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
}

/** `ipcMain`: handlers by channel, callable from tests through `invokeHandler`. */
export const ipcMain = {
  handlers: new Map<string, Listener>(),
  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    this.handlers.set(channel, listener)
  },
  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  },
  async invokeHandler(channel: string, event: unknown, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel)
    if (!handler) throw new Error(`No handler registered for '${channel}'`)
    return handler(event, ...args)
  },
}

/** `ipcRenderer`: `invoke` goes to `ipcRenderer.invokeImpl` (set by tests); `on` is an emitter. */
class FakeIpcRenderer extends EventEmitter {
  readonly invocations: { channel: string; args: unknown[] }[] = []
  invokeImpl: (channel: string, ...args: unknown[]) => Promise<unknown> = async () => {
    throw new Error('ipcRenderer.invokeImpl is not set')
  }
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invocations.push({ channel, args })
    return this.invokeImpl(channel, ...args)
  }
}
export const ipcRenderer = new FakeIpcRenderer()

/** `contextBridge`: what was exposed, by key. */
export const contextBridge = {
  exposed: new Map<string, unknown>(),
  exposeInMainWorld(key: string, api: unknown): void {
    this.exposed.set(key, api)
  },
}

/** `webUtils.getPathForFile`: returns the fake file's `path` property. */
export const webUtils = {
  getPathForFile(file: { path?: string }): string {
    return file.path ?? ''
  },
}

export const app = Object.assign(new EventEmitter(), {
  isPackaged: false,
  /** What `getPath` answers, by name; tests point `userData` at a temporary folder. */
  paths: { userData: '/nonexistent/inklab-user-data' } as Record<string, string>,
  getPath(name: string): string {
    const path = app.paths[name]
    if (!path) throw new Error(`app.getPath('${name}') is not set in the mock`)
    return path
  },
  getVersion: () => '0.0.0-test',
  /** Whether `whenReady` was awaited yet (schemes must be registered before). */
  ready: false,
  whenReady: async () => {
    app.ready = true
  },
  quit: () => undefined,
  requestSingleInstanceLock: () => true,
})

export const session = {
  defaultSession: {
    headersListener: null as Listener | null,
    permissionHandler: null as Listener | null,
    webRequest: {
      onHeadersReceived(listener: Listener): void {
        session.defaultSession.headersListener = listener
      },
    },
    setPermissionRequestHandler(handler: Listener): void {
      session.defaultSession.permissionHandler = handler
    },
    permissionCheckHandler: null as Listener | null,
    setPermissionCheckHandler(handler: Listener | null): void {
      session.defaultSession.permissionCheckHandler = handler
    },
  },
}

/** The app's schemes: what was registered as privileged (and whether before ready), and handlers. */
export const protocol = {
  privileged: [] as {
    scheme: string
    privileges?: Record<string, boolean>
    beforeReady: boolean
  }[],
  handlers: new Map<string, (request: Request) => Response | Promise<Response>>(),
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges?: Record<string, boolean> }[]) {
    for (const scheme of schemes) protocol.privileged.push({ ...scheme, beforeReady: !app.ready })
  },
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void {
    protocol.handlers.set(scheme, handler)
  },
}

export const dialog = {
  showOpenDialog: async () => ({ canceled: true, filePaths: [] as string[] }),
}

export const shell = {
  revealed: [] as string[],
  showItemInFolder(path: string): void {
    this.revealed.push(path)
  },
}

/** A fake utility process: records posted messages; `spawn()`/`exit()` drive its events. */
export class FakeUtilityProcess extends EventEmitter {
  readonly posted: unknown[] = []
  pid: number | undefined = undefined
  stdout = new PassThrough()
  stderr = new PassThrough()
  killed = false

  constructor(
    readonly modulePath: string,
    readonly args: string[],
    readonly options: Record<string, unknown>,
  ) {
    super()
  }
  postMessage(message: unknown): void {
    this.posted.push(message)
  }
  kill(): boolean {
    this.killed = true
    setImmediate(() => this.exit(0))
    return true
  }
  spawn(pid = 4242): void {
    this.pid = pid
    this.emit('spawn')
  }
  exit(code: number): void {
    this.pid = undefined
    this.emit('exit', code)
  }
}

export const utilityProcess = {
  forked: [] as FakeUtilityProcess[],
  fork(modulePath: string, args: string[] = [], options: Record<string, unknown> = {}) {
    const child = new FakeUtilityProcess(modulePath, args, options)
    utilityProcess.forked.push(child)
    return child
  },
}

/** Clears every record kept by the mock. */
export function resetElectronMock(): void {
  BrowserWindow.created.length = 0
  ipcMain.handlers.clear()
  ipcRenderer.removeAllListeners()
  ipcRenderer.invocations.length = 0
  contextBridge.exposed.clear()
  shell.revealed.length = 0
  utilityProcess.forked.length = 0
  session.defaultSession.headersListener = null
  session.defaultSession.permissionCheckHandler = null
  protocol.privileged.length = 0
  protocol.handlers.clear()
  app.ready = false
  session.defaultSession.permissionHandler = null
  app.removeAllListeners()
}

export default {
  app,
  BrowserWindow,
  contextBridge,
  dialog,
  ipcMain,
  ipcRenderer,
  protocol,
  session,
  shell,
  utilityProcess,
  webUtils,
}
