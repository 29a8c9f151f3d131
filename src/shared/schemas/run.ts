import { z } from 'zod'

import { BackendInfoSchema } from './backend'
import { EvaluationSummarySchema } from './evaluation'
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

/** The run a fine-tune started from (its weights), and how that run does on the same data. */
export const FineTunedFromSchema = z.object({
  runId: z.string(),
  name: z.string(),
  /**
   * The parent's model on the held-out split this run was evaluated on, measured when this run
   * ended: the before of a before-and-after on the same images.
   */
  evaluation: EvaluationSummarySchema.optional(),
  /**
   * True when the fine-tune held out exactly the samples its parent held out (on the parent's
   * own dataset): a validation split then holds images neither model trained on.
   */
  sameHeldOut: z.boolean().optional(),
})
export type FineTunedFrom = z.infer<typeof FineTunedFromSchema>

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
  /** The backend the run trained on; absent before it started or where it was not recorded. */
  backend: BackendInfoSchema.optional(),
  /** Set when the run fine-tuned another run's model. */
  fineTunedFrom: FineTunedFromSchema.optional(),
  /**
   * The settings the run trained with, to compare runs side by side; absent where they were not
   * recorded (the bundled model ships without its run's settings).
   */
  config: TrainConfigSchema.optional(),
})
export type RunSummary = z.infer<typeof RunSummarySchema>

/**
 * One point of the per-batch chart: the step, and the epoch's running loss and accuracy as the
 * trainer reported them (with the epoch and the batch within it, so a chart can smooth them).
 */
export const BatchPointSchema = z.object({
  step: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative().optional(),
  batch: z.number().int().nonnegative().optional(),
  loss: z.number(),
  accuracy: z.number(),
})
export type BatchPoint = z.infer<typeof BatchPointSchema>

/** A run with everything needed to chart and compare it. */
export const RunDetailSchema = RunSummarySchema.extend({
  /** The settings, always present in a detail (the bundled model's are filled from its metadata). */
  config: TrainConfigSchema,
  history: z.array(EpochRecordSchema),
  labels: z.array(z.string()),
  /** The per-batch points, for the run in progress (a renderer that reconnects redraws them). */
  batches: z.array(BatchPointSchema).optional(),
})
export type RunDetail = z.infer<typeof RunDetailSchema>
