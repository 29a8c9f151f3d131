import { BrowserWindow, type BrowserWindowConstructorOptions, type WebContents } from 'electron'

import { isTrustedUrl, rendererUrl, type TrustedRenderer } from './security'

/** The main window's options: locked-down web preferences (isolated, sandboxed, no Node). */
export function mainWindowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 1024,
    minHeight: 700,
    show: false,
    title: 'InkLab',
    autoHideMenuBar: true,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  }
}

/**
 * Keeps a web contents on our page: navigation of the page or of any frame in it anywhere else is
 * cancelled, new windows are denied and `<webview>` cannot attach. Applied to every web contents
 * the app creates.
 */
export function hardenWebContents(contents: WebContents, renderer: TrustedRenderer): void {
  const guard = (event: { preventDefault(): void }, url: string): void => {
    if (!isTrustedUrl(url, renderer)) {
      event.preventDefault()
      console.warn('InkLab: blocked navigation to', url)
    }
  }
  contents.on('will-navigate', guard)
  contents.on('will-redirect', guard)
  // Frames too (an iframe's navigation never reaches will-navigate).
  contents.on('will-frame-navigate', (details) => guard(details, details.url))
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
}

/** Options of `createMainWindow`. */
export interface MainWindowOptions {
  preload: string
  renderer: TrustedRenderer
}

/**
 * Creates the main window and loads our page into it; shown once ready. (Its web contents is
 * hardened by the app's `web-contents-created` handler, like every other.)
 */
export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow(mainWindowOptions(options.preload))
  window.on('ready-to-show', () => window.show())
  window
    .loadURL(rendererUrl(options.renderer))
    .catch((error: unknown) => console.error('InkLab: the window could not load:', error))
  return window
}
