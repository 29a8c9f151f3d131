import type { EventPayload } from '@shared/contract'
import type { ExportFormat } from '@shared/schemas'

import { getBridge, onBridgeReconnect, type AppBridge } from '@renderer/bridge'

/** Saved runs and the models they produced. */
export function createRunsClient(bridge: AppBridge = getBridge()) {
  return {
    list: () => bridge.invoke('runs.list', {}),
    get: (runId: string) => bridge.invoke('runs.get', { runId }),
    rename: (runId: string, name: string) => bridge.invoke('runs.rename', { runId, name }),
    remove: (runId: string) => bridge.invoke('runs.delete', { runId }),
    exportRun: (runId: string, destination: string, formats: ExportFormat[]) =>
      bridge.invoke('runs.export', { runId, destination, formats }),
    activate: (runId: string) => bridge.invoke('models.activate', { runId }),
    onTrainingState: (listener: (event: EventPayload<'training.state'>) => void) =>
      bridge.on('training.state', listener),
    /** Events may have been missed while the connection was down. */
    onReconnect: (listener: () => void) => onBridgeReconnect(bridge, listener),
  }
}
export type RunsClient = ReturnType<typeof createRunsClient>
