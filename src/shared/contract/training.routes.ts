import { z } from 'zod'

import {
  EvaluationReportSchema,
  ExportFormatSchema,
  GrayImagePayloadSchema,
  PredictionSchema,
  RunDetailSchema,
  RunSummarySchema,
  SampleImageSchema,
  TRAIN_LIMITS,
  TrainOverridesSchema,
  limitedNumber,
  UPLOAD_LIMITS,
} from '../schemas'
import { defineRoute, IdSchema, NameSchema, PathSchema } from './define'

const RunId = IdSchema

/** Training hyperparameters as the form sends them; presets fill the gaps. */
export const TrainRequestSchema = z
  .object({
    datasetId: IdSchema,
    name: NameSchema.optional(),
    config: TrainOverridesSchema,
  })
  .refine((request) => request.config.preset !== 'custom' || !!request.config.architecture, {
    path: ['config', 'architecture'],
    message: 'preset "custom" needs an architecture',
  })
export type TrainRequest = z.infer<typeof TrainRequestSchema>

/**
 * A fine-tune of run `runId`: a new run that starts from its model's weights on `datasetId` (by
 * default the run's own dataset, as it is now) with a short schedule (see `fineTuneConfig`).
 */
export const FineTuneRequestSchema = z.object({
  runId: IdSchema,
  datasetId: IdSchema.optional(),
  name: NameSchema.optional(),
  epochs: limitedNumber(TRAIN_LIMITS.epochs).optional(),
  learningRate: limitedNumber(TRAIN_LIMITS.learningRate).optional(),
})
export type FineTuneRequest = z.infer<typeof FineTuneRequestSchema>

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
  /** Starts a fine-tune of a run's model (same events as `training.start`). */
  'training.fineTune': defineRoute(
    'training.fineTune',
    FineTuneRequestSchema,
    z.object({ runId: RunId }),
  ),
  /** The schedule `training.fineTune` would run (its defaults), for the form that offers it. */
  'training.fineTuneDefaults': defineRoute(
    'training.fineTuneDefaults',
    FineTuneRequestSchema.pick({ runId: true, datasetId: true }),
    z.object({
      epochs: limitedNumber(TRAIN_LIMITS.epochs),
      learningRate: limitedNumber(TRAIN_LIMITS.learningRate),
    }),
  ),
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
  /**
   * The run in progress, whole, else the run that ended last since the services started (to
   * redraw the Train view after a reload), or null.
   */
  'training.current': defineRoute('training.current', z.object({}), RunDetailSchema.nullable()),
  /** Forgets the ended run `training.current` serves (the Train view was cleared). */
  'training.dismiss': defineRoute(
    'training.dismiss',
    z.object({ runId: RunId }),
    z.object({ ok: z.boolean() }),
  ),

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

  /**
   * Evaluates a run's model on held-out data: its dataset's test split (or, without one, the
   * validation split the run held out); or on another dataset with the same classes (its test
   * split, or all its images when it has none). The report names the dataset and the split.
   */
  'evaluation.run': defineRoute(
    'evaluation.run',
    z.object({ runId: RunId, datasetId: IdSchema.optional() }),
    EvaluationReportSchema,
  ),
  /** The last evaluation of a run, as saved, or null (to show it again after a reload). */
  'evaluation.last': defineRoute(
    'evaluation.last',
    z.object({ runId: RunId }),
    EvaluationReportSchema.nullable(),
  ),
  /** Images of evaluated samples by index (to open a confusion-matrix cell or a misclassification). */
  'evaluation.samples': defineRoute(
    'evaluation.samples',
    z.object({
      runId: RunId,
      datasetId: IdSchema.optional(),
      indices: z.array(z.number().int().nonnegative()).max(500),
    }),
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
  /** Classifies an image file sent from a browser (its bytes, base64) with the active model. */
  'draw.classifyUpload': defineRoute(
    'draw.classifyUpload',
    z.object({
      name: z.string().min(1).max(255),
      data: z.string().max(Math.ceil(UPLOAD_LIMITS.fileBytes / 3) * 4),
    }),
    ClassificationSchema,
  ),
} as const
