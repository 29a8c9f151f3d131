import type { Bridge } from '@shared/contract'

/** What the Electron preload exposes as `window.inklab`: the bridge plus a drag-and-drop helper. */
export interface PreloadApi extends Bridge {
  /** Absolute path of a dropped `File` (Electron's `webUtils.getPathForFile`). */
  getPathForFile?(file: File): string
}

/** The preload's object when running inside Electron, else null (serve mode, tests). */
export function findPreloadApi(scope: object = globalThis): PreloadApi | null {
  const candidate = (scope as { inklab?: unknown }).inklab
  if (!candidate || typeof candidate !== 'object') return null
  const api = candidate as Partial<PreloadApi>
  return typeof api.invoke === 'function' && typeof api.on === 'function'
    ? (api as PreloadApi)
    : null
}
