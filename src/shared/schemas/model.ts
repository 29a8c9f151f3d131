import { z } from 'zod'

import { BackendNameSchema } from './backend'
import { EvaluationSummarySchema } from './evaluation'

/** Built-in architecture presets. */
export const PresetNameSchema = z.enum(['classic', 'fast', 'accurate', 'robust', 'custom'])
export type PresetName = z.infer<typeof PresetNameSchema>

/** A numeric setting's bounds; `int` when only whole numbers are accepted. */
export interface Limit {
  readonly min: number
  readonly max: number
  readonly int?: boolean
}

/** A zod number within `limit`. */
export function limitedNumber(limit: Limit): z.ZodNumber {
  const base = limit.int ? z.number().int() : z.number()
  return base.min(limit.min).max(limit.max)
}

/**
 * Bounds of the settings of custom layers, and of their count. The schema, the architecture
 * editor and the CLI's architecture files all use these.
 */
export const LAYER_LIMITS = {
  filters: { min: 1, max: 1024, int: true },
  kernelSize: { min: 1, max: 11, int: true },
  strides: { min: 1, max: 4, int: true },
  poolSize: { min: 2, max: 4, int: true },
  rate: { min: 0, max: 0.95 },
  units: { min: 1, max: 8192, int: true },
  layers: { min: 1, max: 64, int: true },
} as const satisfies Record<string, Limit>

/** Activations a conv2d or dense layer may use. */
export const ACTIVATIONS = ['relu', 'linear', 'elu', 'tanh'] as const
export const ActivationSchema = z.enum(ACTIVATIONS)
export type Activation = z.infer<typeof ActivationSchema>

/** One layer of a custom architecture, described as data. The input is always 28x28x1. */
export const LayerSpecSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('conv2d'),
    filters: limitedNumber(LAYER_LIMITS.filters),
    kernelSize: limitedNumber(LAYER_LIMITS.kernelSize),
    strides: limitedNumber(LAYER_LIMITS.strides).default(1),
    padding: z.enum(['valid', 'same']).default('valid'),
    activation: ActivationSchema.default('relu'),
  }),
  z.object({
    type: z.literal('maxPool2d'),
    poolSize: limitedNumber(LAYER_LIMITS.poolSize).default(2),
  }),
  z.object({ type: z.literal('batchNorm') }),
  z.object({ type: z.literal('dropout'), rate: limitedNumber(LAYER_LIMITS.rate) }),
  z.object({ type: z.literal('flatten') }),
  z.object({ type: z.literal('globalAveragePool') }),
  z.object({
    type: z.literal('dense'),
    units: limitedNumber(LAYER_LIMITS.units),
    activation: ActivationSchema.default('relu'),
  }),
])
export type LayerSpec = z.infer<typeof LayerSpecSchema>

/** A custom architecture: hidden layers only; the softmax output layer is added for the classes. */
export const ArchitectureSchema = z.object({
  layers: z.array(LayerSpecSchema).min(LAYER_LIMITS.layers.min).max(LAYER_LIMITS.layers.max),
})
export type Architecture = z.infer<typeof ArchitectureSchema>

/** Preprocessing recorded with a model so inputs are prepared exactly as in training. */
export const PreprocessingSchema = z.object({
  size: z.literal(28),
  fitBox: z.literal(20),
  centerBy: z.literal('mass'),
  /** Model input is white ink on black, scaled to [0,1]. */
  inkPolarity: z.literal('light-on-dark'),
  scale: z.literal('divide-255'),
  /** EMNIST stores images transposed; true when the dataset was transposed back on load. */
  transposed: z.boolean().default(false),
})
export type Preprocessing = z.infer<typeof PreprocessingSchema>

/** Headline metrics stored with a model. */
export const ModelMetricsSchema = z.object({
  /** Accuracy on the dataset's held-out test split; absent when it has none. */
  testAccuracy: z.number().optional(),
  testLoss: z.number().optional(),
  /**
   * The saved model's evaluation after training, naming its split: `test` when the dataset has
   * one, else the `validation` split the run held out.
   */
  evaluation: EvaluationSummarySchema.optional(),
  valAccuracy: z.number().optional(),
  valLoss: z.number().optional(),
  epochs: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
  samplesPerSecond: z.number().nonnegative(),
})
export type ModelMetrics = z.infer<typeof ModelMetricsSchema>

/** Data a model trained on beyond its dataset, with the credit its licence asks for. */
export const ExtraTrainingDataSchema = z.object({
  name: z.string(),
  /** Which part of the source: writers, classes, renderings. */
  detail: z.string(),
  count: z.number().int().nonnegative(),
  credit: z.string(),
})
export type ExtraTrainingData = z.infer<typeof ExtraTrainingDataSchema>

/** Real-ink benchmark figures recorded with a model (`inklab realink`). */
export const RealInkFiguresSchema = z.object({
  set: z.string(),
  /** Writers scored: none of them was in the model's training data. */
  writers: z.array(z.string()),
  seed: z.number().int(),
  count: z.number().int().nonnegative(),
  /** Accuracy per rendering (pad drawing, scan), over all scored writers. */
  accuracy: z.record(z.string(), z.number()),
  /** The lowest per-writer accuracy per rendering. */
  worstWriter: z.record(z.string(), z.number()),
})
export type RealInkFigures = z.infer<typeof RealInkFiguresSchema>

/**
 * A dataset source as model metadata records it: its kind and the folder's name only
 * ("folder:digits"), never where the folder sits on the machine that trained (it would leak when
 * the model is shared). Also shortens a source written with a full path by older versions.
 */
export function publicDatasetSource(source: string): string {
  const colon = source.indexOf(':')
  if (colon < 0) return source
  const kind = source.slice(0, colon)
  if (kind === 'builtin') return source
  const parts = source
    .slice(colon + 1)
    .split(/[\\/]/)
    .filter(Boolean)
  return `${kind}:${parts.at(-1) ?? ''}`
}

/** `metadata.json` written beside the TF.js layers model files. */
export const ModelMetadataSchema = z.object({
  format: z.literal('inklab-model'),
  formatVersion: z.literal(1),
  name: z.string(),
  labels: z.array(z.string()).min(2),
  preprocessing: PreprocessingSchema,
  dataset: z.object({
    name: z.string(),
    source: z.string(),
    trainSize: z.number(),
    testSize: z.number(),
  }),
  preset: PresetNameSchema,
  /** The architecture of the network, or of each network an ensemble averages. */
  architecture: ArchitectureSchema.optional(),
  /** How many networks of `architecture` the model averages (an ensemble); absent means one. */
  members: z.number().int().min(2).optional(),
  metrics: ModelMetricsSchema,
  extraTraining: z.array(ExtraTrainingDataSchema).optional(),
  realInk: RealInkFiguresSchema.optional(),
  backend: BackendNameSchema,
  createdAt: z.string(),
  inklabVersion: z.string(),
})
export type ModelMetadata = z.infer<typeof ModelMetadataSchema>

/** One classification result. */
export const PredictionSchema = z.object({
  label: z.string(),
  index: z.number().int().nonnegative(),
  confidence: z.number(),
  top: z.array(z.object({ label: z.string(), p: z.number() })),
})
export type Prediction = z.infer<typeof PredictionSchema>
