import type { Bridge, EventPayload } from '@shared/contract'

import { getBridge } from '@renderer/bridge'

/** Saved runs and the models they produced. */
export function createRunsClient(bridge: Bridge = getBridge()) {
  return {
    list: () => bridge.invoke('runs.list', {}),
    get: (runId: string) => bridge.invoke('runs.get', { runId }),
    rename: (runId: string, name: string) => bridge.invoke('runs.rename', { runId, name }),
    remove: (runId: string) => bridge.invoke('runs.delete', { runId }),
    exportRun: (runId: string, destination: string) =>
      bridge.invoke('runs.export', { runId, destination }),
    activate: (runId: string) => bridge.invoke('models.activate', { runId }),
    onTrainingState: (listener: (event: EventPayload<'training.state'>) => void) =>
      bridge.on('training.state', listener),
  }
}
export type RunsClient = ReturnType<typeof createRunsClient>
