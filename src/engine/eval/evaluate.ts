import type { EvaluationReport, Misclassified } from '@shared/schemas/evaluation'
import type * as tf from '@tensorflow/tfjs'

import type { Split } from '../data/types'
import { predictProbabilities, predictProbabilitiesTta, topK } from '../io/predict'
import { accuracy, classReport, confusionMatrix, macroF1 } from './metrics'

/** Probabilities are clipped to this before the log, as Keras does, so a confident miss stays finite. */
const PROBABILITY_FLOOR = 1e-7

/** Options of `evaluateModel`. */
export interface EvaluateOptions {
  /** Images per predict call (default 256). */
  batchSize?: number
  /** At most this many misclassified samples are listed, in index order (default: all). */
  maxMisclassified?: number
  /**
   * Reads each image at several stroke widths and averages, as the pad does (test-time
   * augmentation, `predictProbabilitiesTta`); off by default.
   */
  tta?: boolean
}

/**
 * Evaluates a softmax classifier on a labelled split: accuracy, mean cross-entropy loss, confusion
 * matrix, per-class precision/recall/F1, macro F1, every misclassified sample (with its top-3
 * probabilities and, for imported folders, its file), and the predicted and actual class of every
 * sample.
 */
export function evaluateModel(
  model: tf.LayersModel,
  split: Split,
  labels: string[],
  options: EvaluateOptions = {},
): EvaluationReport {
  const { batchSize = 256, maxMisclassified = Number.POSITIVE_INFINITY } = options
  const k = labels.length
  const probs = options.tta
    ? predictProbabilitiesTta(model, split.images, split.count)
    : predictProbabilities(model, split.images, split.count, batchSize)
  if (split.count > 0 && probs.length !== split.count * k) {
    throw new RangeError(
      `the model has ${probs.length / split.count} outputs but ${k} labels were given`,
    )
  }
  const predictions = new Array<number>(split.count)
  const misclassified: Misclassified[] = []
  let lossSum = 0
  for (let i = 0; i < split.count; i++) {
    const row = probs.subarray(i * k, (i + 1) * k)
    const actual = split.labels[i]
    let best = 0
    for (let c = 1; c < k; c++) if (row[c] > row[best]) best = c
    predictions[i] = best
    lossSum -= Math.log(Math.min(1, Math.max(PROBABILITY_FLOOR, row[actual])))
    if (best !== actual && misclassified.length < maxMisclassified) {
      const file = split.files?.[i]
      misclassified.push({
        index: i,
        actual,
        predicted: best,
        top: topK(row, Math.min(3, k)),
        ...(file ? { file } : {}),
      })
    }
  }
  const actualLabels = split.labels.subarray(0, split.count)
  const confusion = confusionMatrix(actualLabels, predictions, k)
  const perClass = classReport(confusion, labels)
  return {
    accuracy: accuracy(actualLabels, predictions),
    loss: split.count > 0 ? lossSum / split.count : 0,
    count: split.count,
    labels: [...labels],
    confusion,
    perClass,
    macroF1: macroF1(perClass),
    misclassified,
    predictions,
    actuals: Array.from(actualLabels),
  }
}
