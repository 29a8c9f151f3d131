import type { Prediction } from '@shared/schemas/model'
import * as tf from '@tensorflow/tfjs'

import { changeThickness } from '../data/augment'
import { predictBatch } from '../native/predictor'

/** Pixels per model input (28x28). */
const PIXELS = 784
/** Images per predict call: bounds memory on large inputs. */
const PREDICT_BATCH = 256
/** How many ranked classes each prediction carries. */
const TOP_K = 3

/** The `k` most probable class indices of one probability row, best first. */
export function topK(probs: Float32Array | number[], k: number): { index: number; p: number }[] {
  const ranked: { index: number; p: number }[] = []
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]
    if (ranked.length < k || p > ranked[ranked.length - 1].p) {
      let at = ranked.length
      while (at > 0 && ranked[at - 1].p < p) at--
      ranked.splice(at, 0, { index: i, p })
      if (ranked.length > k) ranked.pop()
    }
  }
  return ranked
}

/** Runs `model` on uint8 images (`count * 784` bytes, white ink on black) and returns the softmax rows. */
export function predictProbabilities(
  model: tf.LayersModel,
  images: Uint8Array,
  count: number,
  batchSize = PREDICT_BATCH,
): Float32Array {
  const classes = model.outputs[0].shape[1] ?? 0
  const out = new Float32Array(count * classes)
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start)
    const rows = tf.tidy(() => {
      const pixels = images.subarray(start * PIXELS, (start + n) * PIXELS)
      const x = tf.tensor4d(Float32Array.from(pixels), [n, 28, 28, 1]).div(255)
      return predictBatch(model, x)
    })
    out.set(rows.dataSync() as Float32Array, start * classes)
    rows.dispose()
  }
  return out
}

/**
 * Stroke width changes (pixels) that test-time augmentation reads each image at: as it is, thinner
 * and thicker. Measured with `inklab realink --tta`: the bundled model reads 0.7 points more
 * held-out pen digits, for three more forward passes of one 28x28 image.
 */
export const TTA_THICKNESS = [0, -0.5, 0.5, 1] as const

/**
 * Softmax rows like `predictProbabilities`, each the mean over the TTA_THICKNESS variants of its
 * image (test-time augmentation).
 */
export function predictProbabilitiesTta(
  model: tf.LayersModel,
  images: Uint8Array,
  count: number,
): Float32Array {
  const variants = TTA_THICKNESS.length
  const expanded = new Uint8Array(count * variants * PIXELS)
  const scratch = new Float32Array(PIXELS)
  for (let i = 0; i < count; i++) {
    const source = images.subarray(i * PIXELS, (i + 1) * PIXELS)
    TTA_THICKNESS.forEach((t, v) => {
      const img = Float32Array.from(source)
      const changed = t === 0 ? img : changeThickness(img, scratch, t)
      const at = (i * variants + v) * PIXELS
      for (let p = 0; p < PIXELS; p++) expanded[at + p] = Math.round(changed[p]!)
    })
  }
  const probs = predictProbabilities(model, expanded, count * variants)
  const classes = count ? probs.length / (count * variants) : 0
  const out = new Float32Array(count * classes)
  for (let i = 0; i < count; i++) {
    for (let v = 0; v < variants; v++) {
      const row = (i * variants + v) * classes
      for (let c = 0; c < classes; c++) out[i * classes + c]! += probs[row + c]! / variants
    }
  }
  return out
}

/**
 * Classifies preprocessed images (784 bytes each, white ink on black) and returns, for each, the
 * best label, its confidence and the top 3 classes. With `tta`, each image is read at the
 * TTA_THICKNESS stroke widths and the probabilities averaged.
 */
export function predictPixels(
  model: tf.LayersModel,
  pixels: Uint8Array[],
  labels: string[],
  opts: { tta?: boolean } = {},
): Prediction[] {
  const packed = new Uint8Array(pixels.length * PIXELS)
  pixels.forEach((image, i) => {
    if (image.length !== PIXELS) {
      throw new RangeError(`image ${i} has ${image.length} pixels; expected ${PIXELS} (28x28)`)
    }
    packed.set(image, i * PIXELS)
  })
  const probs = opts.tta
    ? predictProbabilitiesTta(model, packed, pixels.length)
    : predictProbabilities(model, packed, pixels.length)
  const classes = pixels.length > 0 ? probs.length / pixels.length : 0
  if (pixels.length > 0 && classes !== labels.length) {
    throw new RangeError(`the model has ${classes} outputs but ${labels.length} labels were given`)
  }
  return pixels.map((_, i) => predictionOf(probs.subarray(i * classes, (i + 1) * classes), labels))
}

/** The prediction one softmax row makes: the best label, its confidence and the top 3. */
export function predictionOf(probs: Float32Array | number[], labels: string[]): Prediction {
  const top = topK(probs, TOP_K)
  return {
    label: labels[top[0].index],
    index: top[0].index,
    confidence: top[0].p,
    top: top.map(({ index, p }) => ({ label: labels[index], p })),
  }
}

/** Alias of `predictPixels` under the name the architecture notes use. */
export const predictImages = predictPixels
