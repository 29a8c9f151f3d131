import type { Bridge, RouteInput } from '@shared/contract'
import type { ImportProgress } from '@shared/schemas'

import { getBridge } from '@renderer/bridge'

/** Dataset import, listing and samples. */
export function createDatasetClient(bridge: Bridge = getBridge()) {
  return {
    list: () => bridge.invoke('dataset.list', {}),
    loadBuiltin: () => bridge.invoke('dataset.loadBuiltin', { name: 'mnist' }),
    openIdx: (path: string, name?: string) => bridge.invoke('dataset.openIdx', { path, name }),
    importFolder: (path: string, name?: string) =>
      bridge.invoke('dataset.importFolder', { path, name }),
    cancelImport: () => bridge.invoke('dataset.cancelImport', {}),
    samples: (input: RouteInput<'dataset.samples'>) => bridge.invoke('dataset.samples', input),
    remove: (datasetId: string) => bridge.invoke('dataset.delete', { datasetId }),
    onProgress: (listener: (progress: ImportProgress) => void) =>
      bridge.on('dataset.progress', listener),
  }
}
export type DatasetClient = ReturnType<typeof createDatasetClient>
