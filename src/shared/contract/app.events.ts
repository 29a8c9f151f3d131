import { z } from 'zod'

import {
  BackendInfoSchema,
  ImportProgressSchema,
  RunStateSchema,
  TrainProgressSchema,
} from '../schemas'
import { defineEvent } from './define'

export const appEvents = {
  /** Dataset import progress. */
  'dataset.progress': defineEvent('dataset.progress', ImportProgressSchema),
  /** Throttled per-batch and per-epoch training progress. */
  'training.progress': defineEvent(
    'training.progress',
    z.object({ runId: z.string(), progress: TrainProgressSchema }),
  ),
  /**
   * A run changed state (started, paused, finished, failed...). The final one says whether the
   * run left a loadable model.
   */
  'training.state': defineEvent(
    'training.state',
    z.object({
      runId: z.string(),
      state: RunStateSchema,
      message: z.string().optional(),
      hasModel: z.boolean().optional(),
    }),
  ),
  /** The engine host started (with its backend) or stopped unexpectedly. */
  'engine.status': defineEvent(
    'engine.status',
    z.object({
      running: z.boolean(),
      backend: BackendInfoSchema.nullable(),
      error: z.string().optional(),
    }),
  ),
} as const
