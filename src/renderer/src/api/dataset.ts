import type { RouteInput } from '@shared/contract'
import type { ImportProgress, UploadDescription } from '@shared/schemas'

import { getBridge, type AppBridge } from '@renderer/bridge'

/** Dataset import (from a path, or uploaded from a browser), listing, samples and management. */
export function createDatasetClient(bridge: AppBridge = getBridge()) {
  return {
    list: () => bridge.invoke('dataset.list', {}),
    loadBuiltin: () => bridge.invoke('dataset.loadBuiltin', { name: 'mnist' }),
    openIdx: (input: RouteInput<'dataset.openIdx'>) => bridge.invoke('dataset.openIdx', input),
    importFolder: (input: RouteInput<'dataset.importFolder'>) =>
      bridge.invoke('dataset.importFolder', input),
    find: (input: RouteInput<'dataset.find'>) => bridge.invoke('dataset.find', input),
    rename: (datasetId: string, name: string) =>
      bridge.invoke('dataset.rename', { datasetId, name }),
    uploadStart: (description: UploadDescription) =>
      bridge.invoke('dataset.uploadStart', description),
    uploadFile: (uploadId: string, rel: string, file: Blob, signal?: AbortSignal) => {
      if (!bridge.upload) throw new Error('uploads need the browser (serve mode)')
      return bridge.upload(uploadId, rel, file, signal)
    },
    importUpload: (input: RouteInput<'dataset.importUpload'>) =>
      bridge.invoke('dataset.importUpload', input),
    uploadDiscard: (uploadId: string) => bridge.invoke('dataset.uploadDiscard', { uploadId }),
    cancelImport: () => bridge.invoke('dataset.cancelImport', {}),
    samples: (input: RouteInput<'dataset.samples'>) => bridge.invoke('dataset.samples', input),
    remove: (datasetId: string) => bridge.invoke('dataset.delete', { datasetId }),
    onProgress: (listener: (progress: ImportProgress) => void) =>
      bridge.on('dataset.progress', listener),
  }
}
export type DatasetClient = ReturnType<typeof createDatasetClient>
