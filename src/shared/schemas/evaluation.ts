import { z } from 'zod'

/**
 * The splits of a dataset. `test` only ever means held-out data that training never saw;
 * `validation` is the part of the training data a run held out to pick its best epoch.
 */
export const SplitNameSchema = z.enum(['train', 'validation', 'test'])
export type SplitName = z.infer<typeof SplitNameSchema>

/** A model's accuracy and loss on one named split. */
export const EvaluationSummarySchema = z.object({
  split: SplitNameSchema,
  accuracy: z.number(),
  loss: z.number(),
  count: z.number().int().nonnegative(),
})
export type EvaluationSummary = z.infer<typeof EvaluationSummarySchema>

/** Precision/recall/F1/support of one class. */
export const ClassReportSchema = z.object({
  label: z.string(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  support: z.number().int().nonnegative(),
})
export type ClassReport = z.infer<typeof ClassReportSchema>

/** A misclassified test sample with its top-3 probabilities. */
export const MisclassifiedSchema = z.object({
  index: z.number().int().nonnegative(),
  actual: z.number().int().nonnegative(),
  predicted: z.number().int().nonnegative(),
  top: z.array(z.object({ index: z.number().int().nonnegative(), p: z.number() })),
})
export type Misclassified = z.infer<typeof MisclassifiedSchema>

/** Full evaluation of a model on a labelled split. */
export const EvaluationReportSchema = z.object({
  /** Which split was evaluated: a dataset without a test split is evaluated on its validation split. */
  split: SplitNameSchema.optional(),
  accuracy: z.number(),
  loss: z.number(),
  count: z.number().int().nonnegative(),
  labels: z.array(z.string()),
  /** confusion[actual][predicted] = count. */
  confusion: z.array(z.array(z.number().int().nonnegative())),
  perClass: z.array(ClassReportSchema),
  macroF1: z.number(),
  misclassified: z.array(MisclassifiedSchema),
  /** Predicted class of every evaluated sample, so a confusion cell can be opened. */
  predictions: z.array(z.number().int().nonnegative()),
  /** Actual class of every evaluated sample, index-aligned with `predictions`. */
  actuals: z.array(z.number().int().nonnegative()).optional(),
})
export type EvaluationReport = z.infer<typeof EvaluationReportSchema>
