import type { Bridge, EventPayload, TrainRequest } from '@shared/contract'

import { getBridge } from '@renderer/bridge'

/** Starting and steering training runs, and their live events. */
export function createTrainingClient(bridge: Bridge = getBridge()) {
  return {
    start: (request: TrainRequest) => bridge.invoke('training.start', request),
    pause: (runId: string) => bridge.invoke('training.pause', { runId }),
    resume: (runId: string) => bridge.invoke('training.resume', { runId }),
    stop: (runId: string) => bridge.invoke('training.stop', { runId }),
    current: () => bridge.invoke('training.current', {}),
    onProgress: (listener: (event: EventPayload<'training.progress'>) => void) =>
      bridge.on('training.progress', listener),
    onState: (listener: (event: EventPayload<'training.state'>) => void) =>
      bridge.on('training.state', listener),
  }
}
export type TrainingClient = ReturnType<typeof createTrainingClient>
