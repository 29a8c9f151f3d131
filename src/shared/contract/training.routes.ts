import { z } from 'zod'

import {
  EvaluationReportSchema,
  ExportFormatSchema,
  GrayImagePayloadSchema,
  PredictionSchema,
  RunDetailSchema,
  RunSummarySchema,
  SampleImageSchema,
  TrainConfigSchema,
} from '../schemas'
import { defineRoute, IdSchema, NameSchema, PathSchema } from './define'

const RunId = IdSchema

/** Training hyperparameters as the form sends them; presets fill the gaps. */
export const TrainRequestSchema = z
  .object({
    datasetId: IdSchema,
    name: NameSchema.optional(),
    config: TrainConfigSchema.partial().extend({ preset: TrainConfigSchema.shape.preset }),
  })
  .refine((request) => request.config.preset !== 'custom' || !!request.config.architecture, {
    path: ['config', 'architecture'],
    message: 'preset "custom" needs an architecture',
  })
export type TrainRequest = z.infer<typeof TrainRequestSchema>

/** A classification and the 28x28 input the model actually saw (base64, 784 bytes). */
export const ClassificationSchema = z.object({
  prediction: PredictionSchema.nullable(),
  input: z.string(),
  /** True when no ink was found, so nothing was classified. */
  empty: z.boolean(),
  modelId: z.string(),
})
export type Classification = z.infer<typeof ClassificationSchema>

export const trainingRoutes = {
  /** Starts a run in the engine host; progress arrives as `training.progress` events. */
  'training.start': defineRoute('training.start', TrainRequestSchema, z.object({ runId: RunId })),
  'training.pause': defineRoute(
    'training.pause',
    z.object({ runId: RunId }),
    z.object({ ok: z.boolean() }),
  ),
  'training.resume': defineRoute(
    'training.resume',
    z.object({ runId: RunId }),
    z.object({ ok: z.boolean() }),
  ),
  /** Stops the run within a batch, keeping its best checkpoint. */
  'training.stop': defineRoute(
    'training.stop',
    z.object({ runId: RunId }),
    z.object({ ok: z.boolean() }),
  ),
  /** The run in progress (to resubscribe after a reload), or null. */
  'training.current': defineRoute('training.current', z.object({}), RunDetailSchema.nullable()),

  /** Saved runs and models, newest first; includes the bundled pretrained model. */
  'runs.list': defineRoute('runs.list', z.object({}), z.array(RunSummarySchema)),
  'runs.get': defineRoute('runs.get', z.object({ runId: RunId }), RunDetailSchema),
  'runs.rename': defineRoute(
    'runs.rename',
    z.object({ runId: RunId, name: NameSchema.min(1) }),
    RunSummarySchema,
  ),
  'runs.delete': defineRoute(
    'runs.delete',
    z.object({ runId: RunId }),
    z.object({ ok: z.boolean() }),
  ),
  /**
   * Writes the model in each chosen format (TF.js folder `model/`, Keras `model.h5`, ONNX
   * `model.onnx`) and a training report (charts as SVG, metrics as CSV/JSON/HTML) into a new
   * folder inside `destination`.
   */
  'runs.export': defineRoute(
    'runs.export',
    z.object({
      runId: RunId,
      destination: PathSchema,
      formats: z.array(ExportFormatSchema).min(1).max(3).default(['tfjs']),
    }),
    z.object({ path: z.string(), files: z.array(z.string()) }),
  ),

  /** Evaluates a run's model on its dataset's test split (or validation split if it has none). */
  'evaluation.run': defineRoute(
    'evaluation.run',
    z.object({ runId: RunId }),
    EvaluationReportSchema,
  ),
  /** Images of evaluated samples by index (to open a confusion-matrix cell or a misclassification). */
  'evaluation.samples': defineRoute(
    'evaluation.samples',
    z.object({ runId: RunId, indices: z.array(z.number().int().nonnegative()).max(500) }),
    z.array(SampleImageSchema),
  ),

  /** Makes a model the one the drawing pad uses. */
  'models.activate': defineRoute('models.activate', z.object({ runId: RunId }), RunSummarySchema),
  /** Classifies a drawn image with the active model. */
  'draw.classify': defineRoute('draw.classify', GrayImagePayloadSchema, ClassificationSchema),
  /** Classifies an image file with the active model. */
  'draw.classifyFile': defineRoute(
    'draw.classifyFile',
    z.object({ path: PathSchema }),
    ClassificationSchema,
  ),
} as const
