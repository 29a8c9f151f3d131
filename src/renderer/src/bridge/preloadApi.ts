import type { PreloadApi } from '@shared/contract'

/** The preload's object when running inside Electron, else null (serve mode, tests). */
export function findPreloadApi(scope: object = globalThis): PreloadApi | null {
  const candidate = (scope as { inklab?: unknown }).inklab
  if (!candidate || typeof candidate !== 'object') return null
  const api = candidate as Partial<PreloadApi>
  return typeof api.invoke === 'function' &&
    typeof api.on === 'function' &&
    typeof api.getPathForFile === 'function'
    ? (api as PreloadApi)
    : null
}
