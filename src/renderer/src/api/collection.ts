import type { Bridge, RouteInput } from '@shared/contract'
import type { Correction } from '@shared/schemas'

import { getBridge } from '@renderer/bridge'

/** Datasets built by drawing, and corrections of samples. */
export function createCollectionClient(bridge: Bridge = getBridge()) {
  return {
    create: (name: string) => bridge.invoke('collection.create', { name }),
    add: (input: RouteInput<'collection.add'>) => bridge.invoke('collection.add', input),
    undo: (datasetId: string) => bridge.invoke('collection.undo', { datasetId }),
    correct: (datasetId: string, key: string, correction: Correction) =>
      bridge.invoke('collection.correct', { datasetId, key, correction }),
  }
}
export type CollectionClient = ReturnType<typeof createCollectionClient>
