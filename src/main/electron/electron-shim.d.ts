/**
 * FALLBACK TYPES, used only when the optional `electron` package is not installed (its install step
 * downloads a binary and fails offline, and npm then drops the package).
 *
 * The module name is a pattern (`electro*`, which also matches `electron`) on purpose: TypeScript
 * consults pattern declarations only when a module cannot be resolved. With `electron` installed
 * its own `declare module 'electron'` wins and this file is ignored, so `tsc` stays green both ways
 * and the real types are checked wherever they exist.
 *
 * Only the members InkLab uses are declared, with the same shapes as Electron 40's own types.
 */
declare module 'electro*' {
  import type { EventEmitter } from 'node:events'
  import type { Readable } from 'node:stream'

  interface ElectronEvent {
    preventDefault(): void
  }

  interface WebFrameMain {
    readonly url: string
    readonly origin: string
    readonly parent: WebFrameMain | null
    readonly top: WebFrameMain | null
    readonly processId: number
    readonly routingId: number
  }

  interface HandlerDetails {
    url: string
  }

  interface WebContents extends EventEmitter {
    readonly id: number
    readonly mainFrame: WebFrameMain
    send(channel: string, ...args: unknown[]): void
    isDestroyed(): boolean
    getURL(): string
    setWindowOpenHandler(handler: (details: HandlerDetails) => { action: 'deny' | 'allow' }): void
    on(event: 'will-navigate', listener: (event: ElectronEvent, url: string) => void): this
    on(event: 'will-redirect', listener: (event: ElectronEvent, url: string) => void): this
    on(event: 'will-attach-webview', listener: (event: ElectronEvent) => void): this
    on(
      event: 'will-frame-navigate',
      listener: (details: ElectronEvent & { url: string; isMainFrame: boolean }) => void,
    ): this
    on(event: string, listener: (...args: unknown[]) => void): this
  }

  interface WebPreferences {
    preload?: string
    contextIsolation?: boolean
    sandbox?: boolean
    nodeIntegration?: boolean
    nodeIntegrationInWorker?: boolean
    nodeIntegrationInSubFrames?: boolean
    webSecurity?: boolean
    allowRunningInsecureContent?: boolean
    webviewTag?: boolean
    spellcheck?: boolean
  }

  interface BrowserWindowConstructorOptions {
    width?: number
    height?: number
    minWidth?: number
    minHeight?: number
    show?: boolean
    title?: string
    backgroundColor?: string
    autoHideMenuBar?: boolean
    webPreferences?: WebPreferences
  }

  class BrowserWindow extends EventEmitter {
    constructor(options?: BrowserWindowConstructorOptions)
    static getAllWindows(): BrowserWindow[]
    readonly webContents: WebContents
    loadURL(url: string): Promise<void>
    loadFile(filePath: string): Promise<void>
    show(): void
    focus(): void
    restore(): void
    isMinimized(): boolean
    isDestroyed(): boolean
    on(event: 'ready-to-show' | 'closed', listener: () => void): this
  }

  interface App extends EventEmitter {
    readonly isPackaged: boolean
    whenReady(): Promise<void>
    quit(): void
    getPath(name: 'userData' | 'home' | 'temp'): string
    getVersion(): string
    requestSingleInstanceLock(): boolean
    on(
      event: 'window-all-closed' | 'activate' | 'second-instance' | 'before-quit',
      listener: () => void,
    ): this
    on(
      event: 'web-contents-created',
      listener: (event: ElectronEvent, contents: WebContents) => void,
    ): this
  }

  interface IpcMainInvokeEvent {
    readonly sender: WebContents
    readonly senderFrame: WebFrameMain | null
  }

  interface IpcMain {
    handle(
      channel: string,
      listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown> | unknown,
    ): void
    removeHandler(channel: string): void
  }

  interface OnHeadersReceivedListenerDetails {
    url: string
    resourceType: string
    responseHeaders?: Record<string, string[]>
  }

  interface HeadersReceivedResponse {
    cancel?: boolean
    responseHeaders?: Record<string, string | string[]>
  }

  interface WebRequest {
    onHeadersReceived(
      listener: (
        details: OnHeadersReceivedListenerDetails,
        callback: (response: HeadersReceivedResponse) => void,
      ) => void,
    ): void
  }

  interface Session {
    readonly webRequest: WebRequest
    setPermissionRequestHandler(
      handler: (
        webContents: WebContents,
        permission: string,
        callback: (granted: boolean) => void,
      ) => void,
    ): void
    setPermissionCheckHandler(
      handler:
        | ((
            webContents: WebContents | null,
            permission: string,
            requestingOrigin: string,
          ) => boolean)
        | null,
    ): void
  }

  interface Privileges {
    standard?: boolean
    secure?: boolean
    bypassCSP?: boolean
    allowServiceWorkers?: boolean
    supportFetchAPI?: boolean
    corsEnabled?: boolean
    stream?: boolean
    codeCache?: boolean
  }

  interface CustomScheme {
    scheme: string
    privileges?: Privileges
  }

  interface Protocol {
    registerSchemesAsPrivileged(customSchemes: CustomScheme[]): void
    handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void
  }

  interface OpenDialogOptions {
    title?: string
    properties?: ('openFile' | 'openDirectory' | 'multiSelections')[]
    filters?: { name: string; extensions: string[] }[]
  }

  interface OpenDialogReturnValue {
    canceled: boolean
    filePaths: string[]
  }

  interface Dialog {
    showOpenDialog(
      window: BrowserWindow,
      options: OpenDialogOptions,
    ): Promise<OpenDialogReturnValue>
    showOpenDialog(options: OpenDialogOptions): Promise<OpenDialogReturnValue>
  }

  interface Shell {
    showItemInFolder(fullPath: string): void
  }

  interface ForkOptions {
    env?: Record<string, string | undefined>
    execArgv?: string[]
    cwd?: string
    stdio?: 'pipe' | 'ignore' | 'inherit'
    serviceName?: string
  }

  interface UtilityProcess extends EventEmitter {
    readonly pid: number | undefined
    readonly stdout: Readable | null
    readonly stderr: Readable | null
    postMessage(message: unknown): void
    kill(): boolean
    on(event: 'spawn', listener: () => void): this
    on(event: 'exit', listener: (code: number) => void): this
    on(event: 'message', listener: (message: unknown) => void): this
  }

  interface UtilityProcessModule {
    fork(modulePath: string, args?: string[], options?: ForkOptions): UtilityProcess
  }

  interface IpcRendererEvent {
    readonly sender: unknown
  }

  interface IpcRenderer {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>
    on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): this
    removeListener(
      channel: string,
      listener: (event: IpcRendererEvent, ...args: unknown[]) => void,
    ): this
  }

  interface ContextBridge {
    exposeInMainWorld(apiKey: string, api: unknown): void
  }

  interface WebUtils {
    getPathForFile(file: File): string
  }

  export const app: App
  export { BrowserWindow }
  export const ipcMain: IpcMain
  export const session: { readonly defaultSession: Session }
  export const protocol: Protocol
  export const dialog: Dialog
  export const shell: Shell
  export const utilityProcess: UtilityProcessModule
  export const ipcRenderer: IpcRenderer
  export const contextBridge: ContextBridge
  export const webUtils: WebUtils
  export type {
    App,
    BrowserWindowConstructorOptions,
    ElectronEvent as Event,
    IpcMain,
    IpcMainInvokeEvent,
    IpcRenderer,
    IpcRendererEvent,
    OpenDialogOptions,
    Session,
    UtilityProcess,
    WebContents,
    WebFrameMain,
    WebPreferences,
  }
}
