import type { SplitName } from '@shared/schemas/evaluation'
import type { TrainConfig } from '@shared/schemas/training'

import {
  isPositionKey,
  sampleKey,
  selectSamples,
  stratifiedSplit,
  takeStratified,
} from '../data/split'
import type { Dataset, Split } from '../data/types'

/** The settings of a run that decide its splits. */
export type SplitSettings = Pick<TrainConfig, 'limit' | 'validationSplit' | 'seed'>

/** A split with the name it is reported under. */
export interface NamedSplit {
  name: SplitName
  split: Split
}

/**
 * The training and validation samples a run uses: at most `limit` training samples (stratified),
 * then the validation fraction held out of them. Seeded: the same settings give the same samples,
 * in training and in any later evaluation of the run's model. A run that records the keys it
 * held out (`heldOut`: a fine-tune keeps its parent's) holds out exactly those instead, unless
 * they name the images of a folder by position (runs of InkLab before file keys: a refresh may
 * have moved them), which get the seeded split, as runs that recorded none.
 */
export function trainingSplits(
  dataset: Pick<Dataset, 'train' | 'keys'>,
  settings: SplitSettings,
  heldOut?: ReadonlySet<string>,
): { train: Split; validation?: Split } {
  if (heldOut && !(dataset.train.files && [...heldOut].some(isPositionKey))) {
    return splitByKeys(dataset, heldOut)
  }
  let train = dataset.train
  if (settings.limit > 0 && settings.limit < train.count) {
    train = takeStratified(train, settings.limit, settings.seed)
  }
  if (settings.validationSplit > 0 && Math.floor(train.count * settings.validationSplit) >= 1) {
    const { train: rest, validation } = stratifiedSplit(
      train,
      settings.validationSplit,
      settings.seed,
    )
    if (validation.count > 0 && rest.count > 0) return { train: rest, validation }
  }
  return { train }
}

/**
 * A training split with the samples named by `heldOut` (lasting keys, see `sampleKey`) held out
 * for validation: how a fine-tune keeps its parent's validation samples out of training while
 * every drawing and correction added since trains. Keys that name no sample any more are
 * skipped; without any left there is no validation split.
 */
export function splitByKeys(
  dataset: Pick<Dataset, 'train' | 'keys'>,
  heldOut: ReadonlySet<string>,
): { train: Split; validation?: Split } {
  const train: number[] = []
  const validation: number[] = []
  for (let i = 0; i < dataset.train.count; i++) {
    ;(heldOut.has(sampleKey(dataset, 'train', dataset.train, i)) ? validation : train).push(i)
  }
  if (!validation.length || !train.length) return { train: dataset.train }
  return {
    train: selectSamples(dataset.train, train),
    validation: selectSamples(dataset.train, validation),
  }
}

/** The lasting keys of the samples of `split`, a split selected from `dataset`'s training split. */
export function keysOf(dataset: Pick<Dataset, 'keys'>, split: Split): string[] {
  return Array.from({ length: split.count }, (_, i) => sampleKey(dataset, 'train', split, i))
}

/**
 * The held-out data a run's model is judged on: the dataset's test split when it has one, else
 * the validation split the run held out (named so: it chose the best epoch, so it is not a test);
 * null when there is neither.
 */
export function heldOutSplit(
  dataset: Dataset,
  settings: SplitSettings,
  heldOut?: ReadonlySet<string>,
): NamedSplit | null {
  if (dataset.test && dataset.test.count > 0) return { name: 'test', split: dataset.test }
  const { validation } = trainingSplits(dataset, settings, heldOut)
  return validation ? { name: 'validation', split: validation } : null
}

/** The named split of `dataset` a run with `settings` would evaluate on, or null when it lacks it. */
export function namedSplit(
  dataset: Dataset,
  name: SplitName,
  settings: SplitSettings,
  heldOut?: ReadonlySet<string>,
): Split | null {
  switch (name) {
    case 'test':
      return dataset.test && dataset.test.count > 0 ? dataset.test : null
    case 'validation':
      return trainingSplits(dataset, settings, heldOut).validation ?? null
    case 'train':
      return trainingSplits(dataset, settings, heldOut).train
  }
}
