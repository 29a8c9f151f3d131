import { join } from 'node:path'

import { applyEdits, type EditOp } from '@engine/data/datasetEdits'
import { preprocess } from '@engine/data/preprocess'
import { loadModel, saveModel } from '@engine/io/modelFiles'
import { predictPixels } from '@engine/io/predict'
import { trainAndSave } from '@engine/train/trainAndSave'
import { fineTuneConfig, type FineTuneOptions } from '@shared/fineTune'
import { PAD_SEND_SIZE, PAD_SIZE, PAD_STROKE_WIDTH, rasterizeStrokes } from '@shared/ink/strokes'
import { TRAIN_DEFAULTS, type TrainConfig } from '@shared/schemas/training'
import { resolveTrainConfig } from '@shared/trainConfig'
import * as tf from '@tensorflow/tfjs'

import {
  benchRandom,
  BRISK_PACE,
  FIRST_HAND,
  padPoints,
  sampleStrokes,
  SECOND_HAND,
  type BenchSet,
  type Hand,
  type Pace,
  type Polyline,
} from '../../../scripts/lib/padInk.mjs'

/** The ten digit shapes of scripts/lib/padInk.mjs, keyed as the collection bench keys them. */
export const DIGIT_SHAPES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
] as const

/** The training seed of bench repeat `seed`: repeat 1 trains with the Train form's default. */
export function benchTrainingSeed(seed: number): number {
  return TRAIN_DEFAULTS.seed + seed - 1
}

/** The 28x28 input the pad's drawing of `strokes` becomes: the pad's rasteriser, then preprocess. */
export function padInput(strokes: Polyline[], pace: Pace | null): Uint8Array {
  const image = rasterizeStrokes(
    padPoints(strokes, pace).map((points) => ({
      width: PAD_STROKE_WIDTH.initial,
      points: points.map(([x, y]) => ({ x, y, w: 1 })),
    })),
    PAD_SIZE,
    PAD_SEND_SIZE,
  )
  return preprocess({ width: PAD_SEND_SIZE, height: PAD_SEND_SIZE, data: image }).pixels
}

/** What `correctionScenario` does; the defaults are scripts/collect-bench.mjs's. */
export interface ScenarioOptions {
  /** Folder for the two models. */
  dir: string
  /** Which repeat (1 onwards): seeds the drawings (see `benchRandom`) and the training runs. */
  seed: number
  /** Digit classes (2-10). */
  classes?: number
  /** Drawings of the first hand per class, collected at a brisk pace. */
  perClass?: number
  /** Held-out drawings per class and hand. */
  heldOut?: number
  /** Drawings of the second hand per class shown to the parent; the misread ones are corrected. */
  pool?: number
  /** The parent's run: epochs and batch size of the Train form (the `classic` preset). */
  epochs?: number
  batchSize?: number
  /** The fine-tune's epochs or learning rate, if not its defaults. */
  fineTune?: Omit<FineTuneOptions, 'trainSize'>
  /** Adds each correction this many times (an experiment: oversampling by copies). */
  copies?: number
  /**
   * False: the fine-tune is not told when its parent started, so it cannot tell the corrections
   * from the rest and augments them too (an experiment).
   */
  correctionsSince?: false
  /** Settings of the fine-tune's config to change (an experiment). */
  tuneConfig?: Partial<TrainConfig>
  /** Judges parent + `blend` x (fine-tuned - parent) instead of the fine-tuned weights (an experiment). */
  blend?: number
}

/** Accuracy of a model on each set of drawings. */
export interface SetAccuracy {
  /** Held-out drawings of the hand the dataset was collected with. */
  firstHand: number
  /** Held-out drawings of the second hand (none of them corrected). */
  secondHand: number
  /** The drawings that were corrected (the parent misread every one). */
  corrected: number
}

/** Held-out drawings (of both hands) the fine-tune changed the reading of. */
export interface Changed {
  /** Read right before, wrong after. */
  broken: number
  /** Read wrong before, right after. */
  fixed: number
}

/** What one correction scenario measured. */
export interface ScenarioResult {
  seed: number
  /** Drawings of the second hand the parent misread, added with their right label. */
  corrected: number
  pool: number
  heldOutPerSet: number
  before: SetAccuracy
  after: SetAccuracy
  changed: Changed
  fineTune: { epochs: number; learningRate: number; steps: number; seconds: number }
}

/**
 * The collection bench's story without a browser (scripts/collect-bench.mjs does it through the
 * UI): draw `perClass` digits of each class with the first hand into a drawn dataset, train a
 * `classic` run on it, show it `pool` drawings per class of a sloppier second hand, add each
 * misread one with its right label (a correction), fine-tune the run as the app does (its
 * default schedule unless `fineTune` says otherwise, the parent's held-out drawings, the
 * corrections told apart by the parent's start), and read held-out drawings of both hands with
 * both models as the pad does (with TTA). Every drawing is rendered by the pad's rasteriser from the points
 * the pad receives, and preprocessed as the engine host does.
 */
export async function correctionScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { dir, seed } = options
  const shapes = DIGIT_SHAPES.slice(0, options.classes ?? 10)
  const perClass = options.perClass ?? 20
  const heldOutPerClass = options.heldOut ?? 10
  const poolPerClass = options.pool ?? 20
  const labels = shapes.map((_, i) => String(i))

  // The drawings are collected, then the parent trains, then the corrections are made.
  const [collectedAt, parentStarted, correctedAt] = [
    '2026-01-01T10:00:00.000Z',
    '2026-01-01T11:00:00.000Z',
    '2026-01-01T12:00:00.000Z',
  ]
  const ops: EditOp[] = []
  const add = (label: string, pixels: Uint8Array, at: string): void => {
    ops.push({
      op: 'add',
      key: `d-${(0x10000000 + ops.length).toString(16)}`,
      label,
      pixels: Buffer.from(pixels).toString('base64'),
      at,
    })
  }
  const collect = benchRandom('collect', seed)
  shapes.forEach((shape, c) => {
    for (let i = 0; i < perClass; i++) {
      const strokes = sampleStrokes(shape, collect, PAD_SIZE, FIRST_HAND)
      add(labels[c]!, padInput(strokes, BRISK_PACE), collectedAt)
    }
  })
  const drawings = (hand: Hand, set: BenchSet, per: number) => {
    const random = benchRandom(set, seed)
    return shapes.flatMap((shape, c) =>
      Array.from({ length: per }, () => ({
        label: labels[c]!,
        pixels: padInput(sampleStrokes(shape, random, PAD_SIZE, hand), null),
      })),
    )
  }
  const heldOut = {
    secondHand: drawings(SECOND_HAND, 'secondHand', heldOutPerClass),
    firstHand: drawings(FIRST_HAND, 'firstHand', heldOutPerClass),
  }
  const pool = drawings(SECOND_HAND, 'pool', poolPerClass)

  const config: TrainConfig = resolveTrainConfig({
    preset: 'classic',
    epochs: options.epochs ?? 30,
    batchSize: options.batchSize ?? 16,
    seed: benchTrainingSeed(seed),
  })
  const dataset = applyEdits(null, ops, { name: 'bench digits' })
  const parentDir = join(dir, `parent-${seed}`)
  const parent = await trainAndSave({ dataset, config, modelDir: parentDir })

  const read = async (modelDir: string, items: { label: string; pixels: Uint8Array }[]) => {
    const { model } = await loadModel(modelDir)
    try {
      const predictions = predictPixels(
        model,
        items.map((item) => item.pixels),
        dataset.labels,
        { tta: true },
      )
      return predictions.map((p) => p.label)
    } finally {
      model.dispose()
    }
  }
  const share = (right: boolean[]) =>
    right.length ? right.filter(Boolean).length / right.length : 1

  const poolRead = await read(parentDir, pool)
  const corrected = pool.filter((item, i) => poolRead[i] !== item.label)
  for (let copy = 0; copy < (options.copies ?? 1); copy++) {
    for (const item of corrected) add(item.label, item.pixels, correctedAt)
  }
  const updated = applyEdits(null, ops, { name: 'bench digits' })
  const tunedDir = join(dir, `tuned-${seed}`)
  const tunedConfig = {
    ...fineTuneConfig(config, {
      trainSize: updated.train.count,
      heldOut: parent.validationKeys.length,
      ...options.fineTune,
    }),
    ...options.tuneConfig,
  }
  const tuned = await trainAndSave({
    dataset: updated,
    config: tunedConfig,
    modelDir: tunedDir,
    initialModelDir: parentDir,
    heldOut: parent.validationKeys,
    ...(options.correctionsSince === false ? {} : { correctionsSince: parentStarted }),
  })

  let judgedDir = tunedDir
  if (options.blend !== undefined) {
    const alpha = options.blend
    const [parentModel, tunedModel] = [await loadModel(parentDir), await loadModel(tunedDir)]
    const from = parentModel.model.getWeights()
    tunedModel.model.setWeights(
      tunedModel.model
        .getWeights()
        .map((w, i) => tf.tidy(() => from[i]!.add(w.sub(from[i]!).mul(alpha)))),
    )
    judgedDir = join(dir, `blend-${seed}`)
    await saveModel(judgedDir, tunedModel.model, tunedModel.metadata)
    parentModel.model.dispose()
    tunedModel.model.dispose()
  }
  const others = [...heldOut.firstHand, ...heldOut.secondHand]
  const judge = async (modelDir: string) => {
    const right = async (items: { label: string; pixels: Uint8Array }[]) =>
      (await read(modelDir, items)).map((label, i) => label === items[i]!.label)
    const [first, second, fixed] = [
      await right(heldOut.firstHand),
      await right(heldOut.secondHand),
      await right(corrected),
    ]
    return {
      accuracy: { firstHand: share(first), secondHand: share(second), corrected: share(fixed) },
      others: [...first, ...second],
    }
  }
  const [before, after] = [await judge(parentDir), await judge(judgedDir)]
  return {
    seed,
    corrected: corrected.length,
    pool: pool.length,
    heldOutPerSet: heldOut.firstHand.length,
    before: before.accuracy,
    after: after.accuracy,
    changed: {
      broken: others.filter((_, i) => before.others[i] && !after.others[i]).length,
      fixed: others.filter((_, i) => !before.others[i] && after.others[i]).length,
    },
    fineTune: {
      epochs: tuned.history.length,
      learningRate: tunedConfig.learningRate,
      steps: tuned.history.at(-1)?.step ?? 0,
      seconds: tuned.metrics.seconds,
    },
  }
}
