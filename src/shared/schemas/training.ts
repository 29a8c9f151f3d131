import { z } from 'zod'

import { BackendRequestSchema } from './backend'
import { ArchitectureSchema, limitedNumber, PresetNameSchema, type Limit } from './model'

/**
 * Bounds of each training setting. The schema, the Train form (its inputs and messages), the CLI's
 * options and their messages all use these.
 */
export const TRAIN_LIMITS = {
  epochs: { min: 1, max: 1000, int: true },
  batchSize: { min: 1, max: 4096, int: true },
  learningRate: { min: 1e-7, max: 10 },
  validationSplit: { min: 0, max: 0.9 },
  earlyStoppingPatience: { min: 0, max: 1000, int: true },
  /** Decay per step of the weight average (0 = off); 0.9999 averages over about 10,000 steps. */
  emaDecay: { min: 0, max: 0.9999 },
  /** Networks trained one after another (each its own seed) whose predictions are averaged. */
  members: { min: 1, max: 10, int: true },
  seed: { min: -(2 ** 31), max: 2 ** 31 - 1, int: true },
  /** At most this many training samples; 0 means all. */
  limit: { min: 0, max: 10_000_000, int: true },
} as const satisfies Record<string, Limit>

/** Bounds of the augmentation ranges. */
export const AUGMENTATION_LIMITS = {
  /** Degrees. */
  rotation: { min: 0, max: 45 },
  /** Fraction of the size. */
  zoom: { min: 0, max: 0.5 },
  /** Pixels. */
  shift: { min: 0, max: 8 },
  /** Degrees of horizontal shear (slant). */
  shear: { min: 0, max: 30 },
  /** Pixels of stroke dilation (erosion is at most one pixel). */
  thickness: { min: 0, max: 3 },
  /** Pixels of elastic displacement. */
  elastic: { min: 0, max: 4 },
} as const satisfies Record<string, Limit>

/** Augmentation off, with the ranges used when a user turns it on. */
export const DEFAULT_AUGMENTATION = {
  enabled: false,
  rotation: 10,
  zoom: 0.1,
  shift: 2,
  shear: 0,
  thickness: 0,
  elastic: 0,
} as const

/** Defaults of the settings no preset fixes. */
export const TRAIN_DEFAULTS = {
  lrSchedule: 'constant',
  validationSplit: 0.2,
  earlyStoppingPatience: 0,
  emaDecay: 0,
  members: 1,
  seed: 42,
  limit: 0,
  backend: 'auto',
} as const

/** Augmentation switches; each is applied on the fly, seeded, to training batches only. */
export const AugmentationSchema = z.object({
  enabled: z.boolean().default(DEFAULT_AUGMENTATION.enabled),
  /** Max rotation in degrees (uniform in [-r, r]). */
  rotation: limitedNumber(AUGMENTATION_LIMITS.rotation).default(DEFAULT_AUGMENTATION.rotation),
  /** Max zoom as a fraction (scale uniform in [1-z, 1+z]). */
  zoom: limitedNumber(AUGMENTATION_LIMITS.zoom).default(DEFAULT_AUGMENTATION.zoom),
  /** Max shift in pixels. */
  shift: limitedNumber(AUGMENTATION_LIMITS.shift).default(DEFAULT_AUGMENTATION.shift),
  /** Max horizontal shear in degrees (slant, uniform in [-s, s]). */
  shear: limitedNumber(AUGMENTATION_LIMITS.shear).default(DEFAULT_AUGMENTATION.shear),
  /**
   * Stroke thickness change in pixels: grayscale dilation by up to this much, or erosion by up to
   * one pixel (thin strokes do not survive more), as pens, markers and the pad's widths differ.
   */
  thickness: limitedNumber(AUGMENTATION_LIMITS.thickness).default(DEFAULT_AUGMENTATION.thickness),
  /** Elastic distortion: max displacement in pixels of a smooth random field (wobbly handwriting). */
  elastic: limitedNumber(AUGMENTATION_LIMITS.elastic).default(DEFAULT_AUGMENTATION.elastic),
})
export type Augmentation = z.infer<typeof AugmentationSchema>

/** Learning-rate schedules. */
export const LrScheduleSchema = z.enum(['constant', 'cosine', 'step', 'onecycle'])
export type LrSchedule = z.infer<typeof LrScheduleSchema>

/** How each schedule is named to people (the Train form, the exported report). */
export const LR_SCHEDULE_LABELS: Readonly<Record<LrSchedule, string>> = {
  constant: 'Constant',
  cosine: 'Cosine decay',
  step: 'Step decay',
  onecycle: 'One-cycle',
}

/** Everything that defines a training run. Presets fill in defaults; explicit fields win. */
export const TrainConfigSchema = z.object({
  preset: PresetNameSchema.default('classic'),
  architecture: ArchitectureSchema.optional(),
  epochs: limitedNumber(TRAIN_LIMITS.epochs),
  batchSize: limitedNumber(TRAIN_LIMITS.batchSize),
  learningRate: limitedNumber(TRAIN_LIMITS.learningRate),
  lrSchedule: LrScheduleSchema.default(TRAIN_DEFAULTS.lrSchedule),
  validationSplit: limitedNumber(TRAIN_LIMITS.validationSplit).default(
    TRAIN_DEFAULTS.validationSplit,
  ),
  augmentation: AugmentationSchema.default({ ...DEFAULT_AUGMENTATION }),
  /** Stop when val loss has not improved for this many epochs; 0 disables. */
  earlyStoppingPatience: limitedNumber(TRAIN_LIMITS.earlyStoppingPatience).default(
    TRAIN_DEFAULTS.earlyStoppingPatience,
  ),
  /**
   * Weight averaging: validate, checkpoint and keep an exponential moving average of the weights
   * with this decay per step instead of the last step's weights (0 = off). See WeightAverage.
   */
  emaDecay: limitedNumber(TRAIN_LIMITS.emaDecay).default(TRAIN_DEFAULTS.emaDecay),
  /**
   * An ensemble: this many networks of the same architecture, trained one after another on the
   * same split (member k with seed `seed + k`), saved as one model that averages their class
   * probabilities. 1 = one network. See engine/model/ensemble.ts.
   */
  members: limitedNumber(TRAIN_LIMITS.members).default(TRAIN_DEFAULTS.members),
  seed: limitedNumber(TRAIN_LIMITS.seed).default(TRAIN_DEFAULTS.seed),
  /** Use at most this many training samples (0 = all). */
  limit: limitedNumber(TRAIN_LIMITS.limit).default(TRAIN_DEFAULTS.limit),
  backend: BackendRequestSchema.default(TRAIN_DEFAULTS.backend),
})
export type TrainConfig = z.infer<typeof TrainConfigSchema>
export type TrainConfigInput = z.input<typeof TrainConfigSchema>

/** A shape's fields made optional, with any default removed (`optionalFields`). */
type OptionalFields<S extends z.ZodRawShape> = {
  [K in keyof S]: z.ZodOptional<S[K] extends z.ZodDefault<infer Inner> ? Inner : S[K]>
}

/**
 * `schema` with every field optional and none filled in when absent. Zod 4's `.partial()` keeps
 * the fields' defaults, so a request that leaves a setting out would get the schema's default
 * instead of its preset's.
 */
function optionalFields<S extends z.ZodRawShape>(
  schema: z.ZodObject<S>,
): z.ZodObject<OptionalFields<S>> {
  const shape = Object.fromEntries(
    Object.entries(schema.shape).map(([key, field]) => [
      key,
      (field instanceof z.ZodDefault
        ? (field.unwrap() as z.ZodType)
        : (field as z.ZodType)
      ).optional(),
    ]),
  )
  return z.object(shape) as unknown as z.ZodObject<OptionalFields<S>>
}

/**
 * The settings a training request gives: a preset and any of the others, augmentation ranges
 * included; what it leaves out comes from the preset (see resolveTrainConfig).
 */
export const TrainOverridesSchema = optionalFields(TrainConfigSchema).extend({
  preset: TrainConfigSchema.shape.preset,
  augmentation: optionalFields(AugmentationSchema).optional(),
})

/** Progress, throttled per batch and sent at every epoch end. */
export const TrainProgressSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('batch'),
    epoch: z.number().int().nonnegative(),
    batch: z.number().int().nonnegative(),
    batchesPerEpoch: z.number().int().positive(),
    /** Global step counter across epochs, for charts. */
    step: z.number().int().nonnegative(),
    loss: z.number(),
    accuracy: z.number(),
    samplesPerSecond: z.number().nonnegative(),
    etaSeconds: z.number().nonnegative(),
    elapsedSeconds: z.number().nonnegative(),
  }),
  z.object({
    kind: z.literal('epoch'),
    epoch: z.number().int().nonnegative(),
    epochs: z.number().int().positive(),
    step: z.number().int().nonnegative(),
    loss: z.number(),
    accuracy: z.number(),
    valLoss: z.number().optional(),
    valAccuracy: z.number().optional(),
    learningRate: z.number(),
    samplesPerSecond: z.number().nonnegative(),
    etaSeconds: z.number().nonnegative(),
    elapsedSeconds: z.number().nonnegative(),
    /** True when this epoch produced a new best checkpoint. */
    improved: z.boolean(),
  }),
])
export type TrainProgress = z.infer<typeof TrainProgressSchema>

/** How a run ended. */
export const StopReasonSchema = z.enum([
  'completed',
  'early-stopped',
  'cancelled',
  'diverged',
  'failed',
])
export type StopReason = z.infer<typeof StopReasonSchema>
