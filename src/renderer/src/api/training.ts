import type { EventPayload, FineTuneRequest, TrainRequest } from '@shared/contract'

import { getBridge, onBridgeReconnect, type AppBridge } from '@renderer/bridge'

/** Starting and steering training runs, and their live events. */
export function createTrainingClient(bridge: AppBridge = getBridge()) {
  return {
    start: (request: TrainRequest) => bridge.invoke('training.start', request),
    fineTune: (request: FineTuneRequest) => bridge.invoke('training.fineTune', request),
    fineTuneDefaults: (runId: string, datasetId: string) =>
      bridge.invoke('training.fineTuneDefaults', { runId, datasetId }),
    pause: (runId: string) => bridge.invoke('training.pause', { runId }),
    resume: (runId: string) => bridge.invoke('training.resume', { runId }),
    stop: (runId: string) => bridge.invoke('training.stop', { runId }),
    current: () => bridge.invoke('training.current', {}),
    dismiss: (runId: string) => bridge.invoke('training.dismiss', { runId }),
    get: (runId: string) => bridge.invoke('runs.get', { runId }),
    onProgress: (listener: (event: EventPayload<'training.progress'>) => void) =>
      bridge.on('training.progress', listener),
    onState: (listener: (event: EventPayload<'training.state'>) => void) =>
      bridge.on('training.state', listener),
    /** Events may have been missed while the connection was down. */
    onReconnect: (listener: () => void) => onBridgeReconnect(bridge, listener),
  }
}
export type TrainingClient = ReturnType<typeof createTrainingClient>
