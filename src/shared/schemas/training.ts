import { z } from 'zod'

import { BackendRequestSchema } from './backend'
import { ArchitectureSchema, PresetNameSchema } from './model'

/** Augmentation switches; each is applied on the fly, seeded, to training batches only. */
export const AugmentationSchema = z.object({
  enabled: z.boolean().default(false),
  /** Max rotation in degrees (uniform in [-r, r]). */
  rotation: z.number().min(0).max(45).default(10),
  /** Max zoom as a fraction (scale uniform in [1-z, 1+z]). */
  zoom: z.number().min(0).max(0.5).default(0.1),
  /** Max shift in pixels. */
  shift: z.number().min(0).max(8).default(2),
  /** Max horizontal shear in degrees (slant, uniform in [-s, s]). */
  shear: z.number().min(0).max(30).default(0),
  /**
   * Stroke thickness change in pixels: grayscale dilation by up to this much, or erosion by up to
   * one pixel (thin strokes do not survive more), as pens, markers and the pad's widths differ.
   */
  thickness: z.number().min(0).max(3).default(0),
  /** Elastic distortion: max displacement in pixels of a smooth random field (wobbly handwriting). */
  elastic: z.number().min(0).max(4).default(0),
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
  epochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(4096),
  learningRate: z.number().positive().max(10),
  lrSchedule: LrScheduleSchema.default('constant'),
  validationSplit: z.number().min(0).max(0.9).default(0.2),
  augmentation: AugmentationSchema.default(AugmentationSchema.parse({})),
  /** Stop when val loss has not improved for this many epochs; 0 disables. */
  earlyStoppingPatience: z.number().int().min(0).default(0),
  seed: z.number().int().default(42),
  /** Use at most this many training samples (0 = all). */
  limit: z.number().int().min(0).default(0),
  backend: BackendRequestSchema.default('auto'),
})
export type TrainConfig = z.infer<typeof TrainConfigSchema>
export type TrainConfigInput = z.input<typeof TrainConfigSchema>

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
