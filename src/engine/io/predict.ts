import type { Prediction } from '@shared/schemas/model'
import * as tf from '@tensorflow/tfjs'

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
 * Classifies preprocessed images (784 bytes each, white ink on black) and returns, for each, the
 * best label, its confidence and the top 3 classes.
 */
export function predictPixels(
  model: tf.LayersModel,
  pixels: Uint8Array[],
  labels: string[],
): Prediction[] {
  const packed = new Uint8Array(pixels.length * PIXELS)
  pixels.forEach((image, i) => {
    if (image.length !== PIXELS) {
      throw new RangeError(`image ${i} has ${image.length} pixels; expected ${PIXELS} (28x28)`)
    }
    packed.set(image, i * PIXELS)
  })
  const probs = predictProbabilities(model, packed, pixels.length)
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
