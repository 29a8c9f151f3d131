import { IMAGE_PIXELS, type Split } from '../data/types'
import { renderInk } from './benchmark'
import type { InkRendering } from './render'
import type { PenSample } from './trajectories'

/** Seed offset of training renderings, so they never repeat the benchmark's (seeded by `seed`). */
const TRAINING_SEED_OFFSET = 1_000_003

/**
 * Training samples made from pen trajectories: each sample rendered `copies` times in each
 * rendering (pad drawing, scan), through the same preprocessing as everything else. Labels are the
 * indices of the samples' labels in `labels`.
 */
export async function renderTrainingInk(
  samples: readonly PenSample[],
  labels: readonly string[],
  opts: {
    seed: number
    copies: number
    renderings: readonly InkRendering[]
    onProgress?: (done: number, total: number) => void
  },
): Promise<Split> {
  const index = new Map(labels.map((l, i) => [l, i]))
  const parts: Uint8Array[] = []
  const total = samples.length * opts.copies * opts.renderings.length
  let done = 0
  for (let copy = 0; copy < opts.copies; copy++) {
    for (const rendering of opts.renderings) {
      const ink = await renderInk(samples, rendering, {
        seed: opts.seed + TRAINING_SEED_OFFSET * (copy + 1),
        onProgress: (n) => opts.onProgress?.(done + n, total),
      })
      done += samples.length
      parts.push(ink.pixels)
    }
  }
  const count = samples.length * parts.length
  const images = new Uint8Array(count * IMAGE_PIXELS)
  parts.forEach((p, i) => images.set(p, i * samples.length * IMAGE_PIXELS))
  const labelsOut = labels.length > 256 ? new Uint16Array(count) : new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    const label = samples[i % samples.length]!.label
    const k = index.get(label)
    if (k === undefined) throw new Error(`pen sample label "${label}" is not one of the classes`)
    labelsOut[i] = k
  }
  return { images, labels: labelsOut, count }
}

/** One split after the other (same classes). */
export function concatSplits(a: Split, b: Split): Split {
  const count = a.count + b.count
  const images = new Uint8Array(count * IMAGE_PIXELS)
  images.set(a.images.subarray(0, a.count * IMAGE_PIXELS))
  images.set(b.images.subarray(0, b.count * IMAGE_PIXELS), a.count * IMAGE_PIXELS)
  const wide = a.labels instanceof Uint16Array || b.labels instanceof Uint16Array
  const labels = wide ? new Uint16Array(count) : new Uint8Array(count)
  labels.set(a.labels.subarray(0, a.count))
  labels.set(b.labels.subarray(0, b.count), a.count)
  return { images, labels, count }
}
