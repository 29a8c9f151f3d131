import type { Bridge } from '@shared/contract'
import type { GrayImagePayload } from '@shared/schemas'

import { getBridge } from '@renderer/bridge'

/** Classifying drawings and image files with the active model. */
export function createDrawClient(bridge: Bridge = getBridge()) {
  return {
    classify: (image: GrayImagePayload) => bridge.invoke('draw.classify', image),
    classifyFile: (path: string) => bridge.invoke('draw.classifyFile', { path }),
  }
}
export type DrawClient = ReturnType<typeof createDrawClient>
