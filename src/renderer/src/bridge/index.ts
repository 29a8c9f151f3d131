import type { Bridge } from '@shared/contract'

import { createHttpBridge } from './httpBridge'
import { findPreloadApi } from './preloadApi'
import { takeTokenFromUrl } from './token'

let current: Bridge | null = null

/**
 * The bridge to the services: the preload's `window.inklab` inside Electron, else the HTTP bridge
 * (serve mode). Created once; the serve-mode token is read from the URL at that moment.
 */
export function getBridge(): Bridge {
  if (!current) current = findPreloadApi() ?? createHttpBridge({ token: takeTokenFromUrl() })
  return current
}

/** Replaces the bridge (tests, or a custom transport); null goes back to auto-detection. */
export function setBridge(bridge: Bridge | null): void {
  current = bridge
}

/** The absolute path of a dropped file when the platform can tell (Electron), else null. */
export function pathForDroppedFile(file: File): string | null {
  const api = findPreloadApi()
  if (!api?.getPathForFile) return null
  try {
    return api.getPathForFile(file) || null
  } catch {
    return null
  }
}

export { BridgeError, createHttpBridge } from './httpBridge'
export type { PreloadApi } from './preloadApi'
