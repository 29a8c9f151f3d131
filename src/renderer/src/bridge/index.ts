import type { Bridge } from '@shared/contract'

import { createHttpBridge, type HttpBridge } from './httpBridge'
import { findPreloadApi } from './preloadApi'
import { takeTokenFromUrl } from './token'

/** The contract's bridge; transports whose event stream can drop (HTTP) also offer `onReconnect`. */
export type AppBridge = Bridge & Partial<Pick<HttpBridge, 'onReconnect'>>

let current: AppBridge | null = null

/**
 * The bridge to the services: the preload's `window.inklab` inside Electron, else the HTTP bridge
 * (serve mode). Created once; the serve-mode token is read from the URL at that moment.
 */
export function getBridge(): AppBridge {
  if (!current) current = findPreloadApi() ?? createHttpBridge({ token: takeTokenFromUrl() })
  return current
}

/** Replaces the bridge (tests, or a custom transport); null goes back to auto-detection. */
export function setBridge(bridge: AppBridge | null): void {
  current = bridge
}

/** Calls `listener` when the bridge's event stream comes back after a drop (never, for IPC). */
export function onBridgeReconnect(bridge: AppBridge, listener: () => void): () => void {
  return bridge.onReconnect?.(listener) ?? (() => {})
}

/** The absolute path of a dropped file when the platform can tell (Electron), else null. */
export function pathForDroppedFile(file: File): string | null {
  const api = findPreloadApi()
  if (!api) return null
  try {
    return api.getPathForFile(file) || null
  } catch {
    return null
  }
}

export { createHttpBridge, type HttpBridge } from './httpBridge'
export type { PreloadApi } from '@shared/contract'
