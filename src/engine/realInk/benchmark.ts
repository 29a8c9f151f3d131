import { PAD_SEND_SIZE, PAD_SIZE, rasterizeStrokes } from '@shared/ink/strokes'
import type * as tf from '@tensorflow/tfjs'

import { decodeImageBuffer } from '../data/imageDecode'
import { preprocess } from '../data/preprocess'
import { IMAGE_PIXELS } from '../data/types'
import { predictPixels, predictProbabilities, predictProbabilitiesTta } from '../io/predict'
import { renderPad, renderScan, sampleRng, type InkRendering } from './render'
import type { PenSample } from './trajectories'

/** Scans rendered and decoded at once (each is a libvips job). */
const SCAN_CONCURRENCY = 4

/** Samples rendered and preprocessed into model inputs. */
export interface RenderedInk {
  /** count * 784 bytes, white ink on black, as the model sees them. */
  pixels: Uint8Array
  count: number
}

/**
 * Renders each sample the way `rendering` says and runs it through InkLab's one preprocessing path:
 * pad drawings as the pad sends them, scans as image files are decoded. Deterministic for a seed;
 * each sample draws from its own random stream (by its id), so a subset renders as in the full set.
 */
export async function renderInk(
  samples: readonly PenSample[],
  rendering: InkRendering,
  opts: { seed: number; signal?: AbortSignal; onProgress?: (done: number) => void },
): Promise<RenderedInk> {
  const count = samples.length
  const pixels = new Uint8Array(count * IMAGE_PIXELS)
  const one = async (i: number): Promise<void> => {
    const sample = samples[i]!
    const rng = sampleRng(opts.seed, sample.id, rendering === 'pad' ? 1 : 2)
    const image =
      rendering === 'pad'
        ? renderPad(sample, rng).image
        : await decodeImageBuffer((await renderScan(sample, rng)).bytes, `sample ${sample.id}`)
    pixels.set(preprocess(image).pixels, i * IMAGE_PIXELS)
  }
  for (let start = 0; start < count; start += SCAN_CONCURRENCY) {
    if (opts.signal?.aborted) throw new DOMException('Rendering cancelled', 'AbortError')
    const batch: Promise<void>[] = []
    for (let i = start; i < Math.min(count, start + SCAN_CONCURRENCY); i++) batch.push(one(i))
    await Promise.all(batch)
    opts.onProgress?.(Math.min(count, start + SCAN_CONCURRENCY))
  }
  return { pixels, count }
}

/** Accuracy of one writer (or of everyone: `writer: 'all'`). */
export interface WriterScore {
  writer: string
  count: number
  correct: number
  accuracy: number
}

/** Per-writer and total accuracy of predictions against the samples' labels. */
export function scoreByWriter(
  samples: readonly PenSample[],
  predicted: ArrayLike<number>,
  labels: readonly string[],
): { writers: WriterScore[]; total: WriterScore } {
  const byWriter = new Map<string, { count: number; correct: number }>()
  let correct = 0
  samples.forEach((sample, i) => {
    const entry = byWriter.get(sample.writer) ?? { count: 0, correct: 0 }
    entry.count++
    if (labels[predicted[i]!] === sample.label) {
      entry.correct++
      correct++
    }
    byWriter.set(sample.writer, entry)
  })
  const collator = new Intl.Collator(undefined, { numeric: true })
  const writers = [...byWriter.entries()]
    .sort(([a], [b]) => collator.compare(a, b))
    .map(([writer, e]) => ({ writer, ...e, accuracy: e.correct / e.count }))
  const count = samples.length
  return {
    writers,
    total: { writer: 'all', count, correct, accuracy: count ? correct / count : 0 },
  }
}

/**
 * The class index the model gives each rendered sample; with `tta`, read as the app reads a drawing
 * (`predictProbabilitiesTta`).
 */
export function classifyRendered(
  model: tf.LayersModel,
  ink: RenderedInk,
  tta = false,
): Uint16Array {
  const probs = tta
    ? predictProbabilitiesTta(model, ink.pixels, ink.count)
    : predictProbabilities(model, ink.pixels, ink.count)
  const classes = ink.count ? probs.length / ink.count : 0
  const out = new Uint16Array(ink.count)
  for (let i = 0; i < ink.count; i++) {
    let best = 0
    for (let c = 1; c < classes; c++) {
      if (probs[i * classes + c]! > probs[i * classes + best]!) best = c
    }
    out[i] = best
  }
  return out
}

/** Result of one rendering of a benchmark set. */
export interface RealInkResult {
  rendering: InkRendering
  writers: WriterScore[]
  total: WriterScore
}

/**
 * Reads every sample in each rendering with `model` and scores it per writer. Samples whose label
 * the model does not know are an error: pick the set to match the model.
 */
export async function benchmarkRealInk(opts: {
  model: tf.LayersModel
  labels: readonly string[]
  samples: readonly PenSample[]
  renderings: readonly InkRendering[]
  seed: number
  /** Test-time augmentation: read each sample at several stroke widths and average. */
  tta?: boolean
  /**
   * Renderings of these same samples and seed from an earlier call, filled in by this one: several
   * models read the same images, rendered once.
   */
  rendered?: Partial<Record<InkRendering, RenderedInk>>
  signal?: AbortSignal
  onProgress?: (rendering: InkRendering, done: number, total: number) => void
}): Promise<RealInkResult[]> {
  const known = new Set(opts.labels)
  const unknown = opts.samples.find((s) => !known.has(s.label))
  if (unknown) {
    throw new Error(
      `the model has no class "${unknown.label}" (its classes: ${opts.labels.join(' ')})`,
    )
  }
  const results: RealInkResult[] = []
  for (const rendering of opts.renderings) {
    const ink =
      opts.rendered?.[rendering] ??
      (await renderInk(opts.samples, rendering, {
        seed: opts.seed,
        signal: opts.signal,
        onProgress: (done) => opts.onProgress?.(rendering, done, opts.samples.length),
      }))
    if (opts.rendered) opts.rendered[rendering] = ink
    const predicted = classifyRendered(opts.model, ink, opts.tta)
    results.push({ rendering, ...scoreByWriter(opts.samples, predicted, opts.labels) })
  }
  return results
}

/** Milliseconds from strokes to prediction on the pad path, per drawing: median and 95th percentile. */
export interface PadLatency {
  count: number
  medianMs: number
  p95Ms: number
}

/**
 * Times what the app does for each pad drawing, one at a time: rasterise the strokes, preprocess,
 * classify one image with test-time augmentation (the IPC hops between the window and the engine
 * process are not included).
 */
export function measurePadLatency(
  model: tf.LayersModel,
  labels: readonly string[],
  samples: readonly PenSample[],
  seed: number,
): PadLatency {
  const times: number[] = []
  for (const sample of samples) {
    const { strokes } = renderPad(sample, sampleRng(seed, sample.id, 1))
    const started = performance.now()
    const data = rasterizeStrokes(strokes, PAD_SIZE, PAD_SEND_SIZE)
    const { pixels } = preprocess({ width: PAD_SEND_SIZE, height: PAD_SEND_SIZE, data })
    predictPixels(model, [pixels], [...labels], { tta: true })
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  const at = (q: number): number =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0
  return { count: times.length, medianMs: at(0.5), p95Ms: at(0.95) }
}
