import { z } from 'zod'

import { BackendInfoSchema } from './backend'
import { ModelMetricsSchema, PresetNameSchema } from './model'
import { TrainConfigSchema, TrainProgressSchema } from './training'

/** Lifecycle of a training run as the app shows it. */
export const RunStateSchema = z.enum([
  'starting',
  'running',
  'paused',
  'completed',
  'early-stopped',
  'cancelled',
  'diverged',
  'failed',
])
export type RunState = z.infer<typeof RunStateSchema>

/** Epoch-level history point kept on disk for charts and comparison. */
export const EpochRecordSchema = TrainProgressSchema.options[1]
export type EpochRecord = z.infer<typeof EpochRecordSchema>

/** One run (and the model it produced), as listed in the Models view. */
export const RunSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  state: RunStateSchema,
  message: z.string().optional(),
  datasetId: z.string(),
  datasetName: z.string(),
  preset: PresetNameSchema,
  createdAt: z.string(),
  finishedAt: z.string().optional(),
  /** True when a loadable model (final or best checkpoint) exists on disk. */
  hasModel: z.boolean(),
  /** The pretrained model shipped with the app. */
  builtin: z.boolean().default(false),
  /** The run whose model the drawing pad uses (the bundled model unless another was activated). */
  active: z.boolean().default(false),
  metrics: ModelMetricsSchema.partial().optional(),
  backend: BackendInfoSchema.optional(),
})
export type RunSummary = z.infer<typeof RunSummarySchema>

/** One point of the per-batch chart: the step, and the epoch's running loss and accuracy. */
export const BatchPointSchema = z.object({
  step: z.number().int().nonnegative(),
  loss: z.number(),
  accuracy: z.number(),
})
export type BatchPoint = z.infer<typeof BatchPointSchema>

/** A run with everything needed to chart and compare it. */
export const RunDetailSchema = RunSummarySchema.extend({
  config: TrainConfigSchema,
  history: z.array(EpochRecordSchema),
  labels: z.array(z.string()),
  /** The per-batch points, for the run in progress (a renderer that reconnects redraws them). */
  batches: z.array(BatchPointSchema).optional(),
})
export type RunDetail = z.infer<typeof RunDetailSchema>
