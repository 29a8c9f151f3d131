import type { Bridge } from '@shared/contract'

import { getBridge } from '@renderer/bridge'

/** Evaluating a model on its test split, and the images behind the numbers. */
export function createEvaluationClient(bridge: Bridge = getBridge()) {
  return {
    run: (runId: string) => bridge.invoke('evaluation.run', { runId }),
    last: (runId: string) => bridge.invoke('evaluation.last', { runId }),
    samples: (runId: string, indices: number[]) =>
      bridge.invoke('evaluation.samples', { runId, indices }),
  }
}
export type EvaluationClient = ReturnType<typeof createEvaluationClient>
