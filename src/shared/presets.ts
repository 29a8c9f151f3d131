import type { Architecture } from './schemas/model'
import { DEFAULT_AUGMENTATION, type TrainConfig } from './schemas/training'

/** Names of the built-in presets (everything but `custom`). */
export type BuiltinPresetName = 'classic' | 'fast' | 'accurate' | 'robust'

/** The training settings a preset fixes; the rest of a TrainConfig keeps the schema's defaults. */
export type PresetDefaults = Pick<
  TrainConfig,
  | 'epochs'
  | 'batchSize'
  | 'learningRate'
  | 'lrSchedule'
  | 'validationSplit'
  | 'augmentation'
  | 'earlyStoppingPatience'
  | 'emaDecay'
  | 'members'
>

/**
 * A built-in preset: the layers as data and the training settings that go with them. Pure data,
 * shared by the engine (which trains it) and the renderer (whose form it fills).
 */
export interface Preset {
  /** Short name for menus. */
  title: string
  /** One line for the UI and the CLI. */
  description: string
  architecture: Architecture
  defaults: PresetDefaults
}

/** Augmentation switched off, with the schema's default ranges kept for when a user turns it on. */
const NO_AUGMENTATION = { ...DEFAULT_AUGMENTATION }

/**
 * Augmentation that matches real ink (pens, markers, the pad's stroke widths, scans): the affine
 * ranges widened, plus slant, stroke thickness and elastic wobble. Measured with `inklab realink`.
 */
export const INK_AUGMENTATION = {
  enabled: true,
  rotation: 12,
  zoom: 0.15,
  shift: 2,
  shear: 15,
  thickness: 1.5,
  elastic: 1.5,
}

/**
 * The built-in presets.
 * - `classic`: exactly the Keras `mnist_convnet` example and its training settings.
 * - `fast`: the shortest wall time to >= 99.0% MNIST test accuracy we measured on a 2-core machine on
 *   wasm: stride-2 convs (no pooling), batch norm, a 64-unit dense head, light augmentation,
 *   one-cycle Adam at 1e-2 for 3 epochs (about 99.2% in under two minutes).
 * - `robust`: the default for a person's own folders (a few hundred to tens of thousands of images,
 *   10-62 classes): the fast design made wider, dropout, augmentation that matches real ink, and
 *   up to 60 epochs with early stopping on a 15% held-out split, so small folders get enough steps
 *   and large ones stop when they stop improving.
 * - `accurate`: the strided-conv design of the well-known Kaggle MNIST CNNs (3x3, 3x3, 5x5/2 blocks
 *   of 32 and 64 filters, batch norm, dropout 0.4, dense 128) with augmentation and a cosine
 *   schedule, six of them trained with different seeds and averaged, for 99.7%: one such network
 *   reached 99.59-99.74% on MNIST depending on its seed and settings; the first four averaged
 *   99.69%, all six 99.71% (test loss 0.0087 against one network's 0.0097-0.0122; README). Slow:
 *   six runs, about 1 h 36 min on native on a 2-core machine, far slower without native.
 */
export const PRESETS: Readonly<Record<BuiltinPresetName, Preset>> = {
  classic: {
    title: 'Classic',
    description: 'Keras mnist_convnet: two conv/pool blocks, dropout 0.5, Adam 1e-3, 15 epochs',
    architecture: {
      layers: [
        {
          type: 'conv2d',
          filters: 32,
          kernelSize: 3,
          strides: 1,
          padding: 'valid',
          activation: 'relu',
        },
        { type: 'maxPool2d', poolSize: 2 },
        {
          type: 'conv2d',
          filters: 64,
          kernelSize: 3,
          strides: 1,
          padding: 'valid',
          activation: 'relu',
        },
        { type: 'maxPool2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dropout', rate: 0.5 },
      ],
    },
    defaults: {
      epochs: 15,
      batchSize: 128,
      learningRate: 1e-3,
      lrSchedule: 'constant',
      validationSplit: 0.1,
      augmentation: NO_AUGMENTATION,
      earlyStoppingPatience: 0,
      emaDecay: 0,
      members: 1,
    },
  },
  fast: {
    title: 'Fast',
    description:
      'Strided convs with batch norm, a small dense head, light augmentation and a one-cycle schedule: 99.2% on MNIST in 3 epochs',
    architecture: {
      layers: [
        {
          type: 'conv2d',
          filters: 16,
          kernelSize: 5,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        {
          type: 'conv2d',
          filters: 32,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        { type: 'flatten' },
        { type: 'dense', units: 64, activation: 'relu' },
        { type: 'batchNorm' },
      ],
    },
    defaults: {
      epochs: 3,
      batchSize: 128,
      learningRate: 1e-2,
      lrSchedule: 'onecycle',
      validationSplit: 0.05,
      augmentation: {
        enabled: true,
        rotation: 8,
        zoom: 0.08,
        shift: 1.5,
        shear: 0,
        thickness: 0,
        elastic: 0,
      },
      earlyStoppingPatience: 0,
      emaDecay: 0,
      members: 1,
    },
  },
  robust: {
    title: 'Robust',
    description:
      'For your own folders: wider strided convs, dropout, augmentation that matches real ink (slant, stroke width, wobble), up to 60 epochs with early stopping',
    architecture: {
      layers: [
        {
          type: 'conv2d',
          filters: 32,
          kernelSize: 5,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        {
          type: 'conv2d',
          filters: 64,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        { type: 'flatten' },
        { type: 'dropout', rate: 0.3 },
        { type: 'dense', units: 128, activation: 'relu' },
        { type: 'batchNorm' },
        { type: 'dropout', rate: 0.3 },
      ],
    },
    defaults: {
      epochs: 60,
      batchSize: 64,
      learningRate: 3e-3,
      lrSchedule: 'cosine',
      validationSplit: 0.15,
      augmentation: INK_AUGMENTATION,
      earlyStoppingPatience: 10,
      emaDecay: 0,
      members: 1,
    },
  },
  accurate: {
    title: 'Accurate',
    description:
      'Six networks averaged, each six batch-normalised convs (strided 5x5 instead of pooling), dropout, augmentation, cosine schedule, 30 epochs (slow)',
    architecture: {
      layers: [
        {
          type: 'conv2d',
          filters: 32,
          kernelSize: 3,
          strides: 1,
          padding: 'valid',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        {
          type: 'conv2d',
          filters: 32,
          kernelSize: 3,
          strides: 1,
          padding: 'valid',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        {
          type: 'conv2d',
          filters: 32,
          kernelSize: 5,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        { type: 'dropout', rate: 0.4 },
        {
          type: 'conv2d',
          filters: 64,
          kernelSize: 3,
          strides: 1,
          padding: 'valid',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        {
          type: 'conv2d',
          filters: 64,
          kernelSize: 3,
          strides: 1,
          padding: 'valid',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        {
          type: 'conv2d',
          filters: 64,
          kernelSize: 5,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        },
        { type: 'batchNorm' },
        { type: 'dropout', rate: 0.4 },
        { type: 'flatten' },
        { type: 'dense', units: 128, activation: 'relu' },
        { type: 'batchNorm' },
        { type: 'dropout', rate: 0.4 },
      ],
    },
    defaults: {
      epochs: 30,
      batchSize: 128,
      learningRate: 2e-3,
      lrSchedule: 'cosine',
      validationSplit: 0.1,
      augmentation: {
        enabled: true,
        rotation: 10,
        zoom: 0.1,
        shift: 2,
        shear: 0,
        thickness: 0,
        elastic: 0,
      },
      earlyStoppingPatience: 0,
      emaDecay: 0,
      members: 6,
    },
  },
}

/**
 * The preset a dataset starts with: the one that gives a good model soonest. `robust` for a
 * person's own folder (small, real ink: it needs the augmentation and the epochs, and stops early);
 * `fast` for MNIST and IDX sets (tens of thousands of images: 99.2% on MNIST in 3 epochs, where
 * classic takes 15 epochs for 99.1%); `classic` for drawings collected on the pad (a handful per
 * class: its 10% validation split holds one of five out, where fast's 5% needs ten, robust's 15%
 * seven, and it learns a few drawn classes in seconds).
 */
export function defaultPresetFor(source: { kind: string }): BuiltinPresetName {
  if (source.kind === 'folder') return 'robust'
  return source.kind === 'drawn' ? 'classic' : 'fast'
}

/** Below this many training images a class is too small to learn reliably. */
export const MIN_IMAGES_PER_CLASS = 20

/**
 * One warning sentence naming the classes with fewer than MIN_IMAGES_PER_CLASS training images
 * (fewest first), or null when every class has enough.
 */
export function sparseClassWarning(
  labels: readonly string[],
  counts: readonly number[],
): string | null {
  const sparse = labels
    .map((label, i) => ({ label, count: counts[i] ?? 0 }))
    .filter((c) => c.count < MIN_IMAGES_PER_CLASS)
    .sort((a, b) => a.count - b.count)
  if (sparse.length === 0) return null
  const shown = sparse.slice(0, 8).map((c) => `"${c.label}" ${c.count}`)
  const more = sparse.length > shown.length ? `, ${sparse.length - shown.length} more` : ''
  const which = sparse.length === 1 ? '1 class has' : `${sparse.length} classes have`
  return (
    `${which} fewer than ${MIN_IMAGES_PER_CLASS} training images (${shown.join(', ')}${more}): ` +
    'too few to learn reliably; add more images of these classes'
  )
}
