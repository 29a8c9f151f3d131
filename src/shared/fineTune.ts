import { INK_AUGMENTATION } from './presets'
import { TRAIN_LIMITS, TrainConfigSchema, type TrainConfig } from './schemas/training'

/**
 * The schedule a fine-tune runs by default: a third of the parent's learning rate, constant, for
 * the epochs that make `minSteps` optimiser steps (seconds on a few hundred drawings; one epoch of
 * a big dataset), on every sample of the updated dataset, with ink augmentation unless the parent
 * had its own, except for the samples drawn or relabelled since the parent started (the
 * corrections, `correctionsSince` of trainAndSave): those keep their shape as drawn and vary
 * only in stroke width, the one change the pad's test-time augmentation reads a drawing at.
 *
 * Measured with test/bench/fineTune.measure.ts: the collection bench's story without a browser
 * (10 digits x 20 drawings by one hand, a `classic` run on them, the misread ones of 200 drawings
 * by a sloppier second hand corrected, 100 held-out drawings per hand), repeats 1-20, native.
 * The earlier default (100 steps at this rate, the parent's augmentation, none for `classic`)
 * read 98% of the corrected drawings right but took the second hand's held-out drawings from
 * 97.5% to 95.3% on average, worse in 16 repeats of 20 and by up to 9 points (81 read wrong that
 * were right, 36 the other way); the first hand's stayed at 100%. The misread drawings are the
 * odd ones: learnt as they are, they pull the model away from the drawings like them. Weighting
 * them made it worse (four copies each: 93.2%); 400 steps (95.9%) or a tenth of the rate (95.6%,
 * 90% of the corrections learnt) helped little. With ink augmentation the model learns the
 * variations a hand makes instead, and 400 steps of it took the second hand's held-out drawings
 * to 99.65%, worse in no repeat (2 read wrong that were right, 46 the other way), the first
 * hand's staying at 100%. Augmenting the corrections too learnt 98% of them; kept as drawn, all
 * of them (and the narrow cross of fineTune.test.ts, which augmented versions of it did not
 * teach). Repeats 21-40: 95.9% to 99.25% (the earlier default: 95.2%),
 * 99% of the corrections learnt; on wasm, repeats 1-5: 97.6% to 99.8% (earlier: 92.8%).
 * Learnt at one width only, though, the e2e story's corrected narrow cross was still misread on
 * the pad, which averages four widths: with the width varied, and the steps counted without the
 * held-out samples (the steps had been 372, not 400), repeats 1-20 went from 97.45% to 99.70%,
 * worse in none (1 read wrong that was right, 46 the other way), all corrections learnt.
 * test/node/engine/train/fineTune.test.ts holds the fine-tune to two repeats that suffered most.
 */
export const FINE_TUNE_DEFAULTS = {
  epochs: 5,
  /** Optimiser steps a fine-tune of a small dataset runs (100 were too few: see above). */
  minSteps: 400,
  maxEpochs: 200,
  largeDatasetEpochs: 1,
  /** Training samples from which a dataset counts as big. */
  largeDataset: 20_000,
  learningRateFactor: 0.3,
} as const

/** What a fine-tune may change of its parent's settings. */
export interface FineTuneOptions {
  /** Training samples of the dataset it runs on (with `heldOut`, picks the default epochs). */
  trainSize: number
  /** How many of them it holds out (its parent's held-out samples): they make no steps. */
  heldOut?: number
  epochs?: number
  learningRate?: number
}

/** The default epochs of a fine-tune on `trainSize` samples in batches of `batchSize`. */
export function fineTuneEpochs(trainSize: number, batchSize: number): number {
  const d = FINE_TUNE_DEFAULTS
  if (trainSize > d.largeDataset) return d.largeDatasetEpochs
  const batches = Math.max(1, Math.ceil(trainSize / Math.max(1, batchSize)))
  return Math.min(d.maxEpochs, Math.max(d.epochs, Math.ceil(d.minSteps / batches)))
}

/** The default learning rate of a fine-tune of a run trained at `parentRate`. */
export function fineTuneLearningRate(parentRate: number): number {
  return Math.max(TRAIN_LIMITS.learningRate.min, parentRate * FINE_TUNE_DEFAULTS.learningRateFactor)
}

/**
 * A fine-tune's config: the parent's (architecture, batch size, augmentation, validation split
 * and seed, so the weights fit and the held-out samples are chosen alike) with the short
 * schedule, or the epochs and learning rate asked for, and ink augmentation when the parent had
 * none (see FINE_TUNE_DEFAULTS). Pure; throws a ZodError when invalid.
 */
export function fineTuneConfig(parent: TrainConfig, options: FineTuneOptions): TrainConfig {
  return TrainConfigSchema.parse({
    ...parent,
    augmentation: parent.augmentation.enabled ? parent.augmentation : INK_AUGMENTATION,
    epochs:
      options.epochs ??
      fineTuneEpochs(Math.max(1, options.trainSize - (options.heldOut ?? 0)), parent.batchSize),
    learningRate: options.learningRate ?? fineTuneLearningRate(parent.learningRate),
    lrSchedule: 'constant',
    earlyStoppingPatience: 0,
    // A fine-tune keeps its last step's weights, as measured above, not an average of them.
    emaDecay: 0,
    // One network: InkLab does not fine-tune an ensemble (trainAndSave refuses its weights).
    members: 1,
    limit: 0,
  })
}

/**
 * Why a model that averages `members` networks cannot be fine-tuned (a fine-tune trains one
 * network from one network's weights), or null for one network.
 */
export function fineTuneMembersProblem(members: number): string | null {
  if (members <= 1) return null
  return (
    `it averages ${members} networks (an ensemble), and a fine-tune trains one network: ` +
    'train a new model instead'
  )
}

/**
 * Why a model with classes `modelLabels` cannot be fine-tuned on dataset `datasetName` with
 * classes `datasetLabels`, or null when the classes are the same, in the same order (a fine-tune
 * keeps a model's output layer).
 */
export function fineTuneClassesProblem(
  modelLabels: readonly string[],
  datasetName: string,
  datasetLabels: readonly string[],
): string | null {
  const same =
    modelLabels.length === datasetLabels.length &&
    modelLabels.every((label, i) => label === datasetLabels[i])
  if (same) return null
  const list = (labels: readonly string[]): string => {
    if (!labels.length) return 'none'
    const shown = labels.slice(0, 10).join(', ')
    return labels.length > 10 ? `${shown}, … (${labels.length})` : shown
  }
  return (
    `the model knows the classes ${list(modelLabels)} but “${datasetName}” has ` +
    `${list(datasetLabels)}: a fine-tune keeps a model's classes, so train a new model instead`
  )
}
