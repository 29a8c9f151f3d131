import { TRAIN_LIMITS, TrainConfigSchema, type TrainConfig } from './schemas/training'

/**
 * The short schedule a fine-tune runs by default: a few epochs at a third of the parent's
 * learning rate, constant, on every sample of the updated dataset. A few drawings make an epoch
 * of one or two batches, so small datasets get the epochs that make `minSteps` optimiser steps
 * (a second or two of work); big datasets get one epoch: an epoch of MNIST is plenty.
 *
 * Why a third and 100 steps: on 18 drawn shapes (6 each of three classes) a drawing the model
 * misread and the user added with the right label is still misread after 60 steps at a tenth
 * of the rate (p = 0.99 for the wrong class), and read right after 100-120 steps at a third,
 * with the held-out drawings still all right (test/node/engine/train/fineTune.test.ts).
 */
export const FINE_TUNE_DEFAULTS = {
  epochs: 5,
  minSteps: 100,
  maxEpochs: 50,
  largeDatasetEpochs: 1,
  /** Training samples from which a dataset counts as big. */
  largeDataset: 20_000,
  learningRateFactor: 0.3,
} as const

/** What a fine-tune may change of its parent's settings. */
export interface FineTuneOptions {
  /** Training samples of the dataset it runs on (picks the default epochs). */
  trainSize: number
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
 * schedule, or the epochs and learning rate asked for. Pure; throws a ZodError when invalid.
 */
export function fineTuneConfig(parent: TrainConfig, options: FineTuneOptions): TrainConfig {
  return TrainConfigSchema.parse({
    ...parent,
    epochs: options.epochs ?? fineTuneEpochs(options.trainSize, parent.batchSize),
    learningRate: options.learningRate ?? fineTuneLearningRate(parent.learningRate),
    lrSchedule: 'constant',
    earlyStoppingPatience: 0,
    limit: 0,
  })
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
