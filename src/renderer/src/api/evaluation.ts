import type { Bridge } from '@shared/contract'

import { getBridge } from '@renderer/bridge'

/** Evaluating a model on its test split, and the images behind the numbers. */
export function createEvaluationClient(bridge: Bridge = getBridge()) {
  return {
    run: (runId: string, datasetId?: string) =>
      bridge.invoke('evaluation.run', { runId, ...(datasetId ? { datasetId } : {}) }),
    last: (runId: string) => bridge.invoke('evaluation.last', { runId }),
    samples: (runId: string, indices: number[], datasetId?: string) =>
      bridge.invoke('evaluation.samples', { runId, indices, ...(datasetId ? { datasetId } : {}) }),
  }
}
export type EvaluationClient = ReturnType<typeof createEvaluationClient>
