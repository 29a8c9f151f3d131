import type { SplitName } from '@shared/schemas/evaluation'
import type { TrainConfig } from '@shared/schemas/training'

import { stratifiedSplit, takeStratified } from '../data/split'
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
 * in training and in any later evaluation of the run's model.
 */
export function trainingSplits(
  dataset: Pick<Dataset, 'train'>,
  settings: SplitSettings,
): { train: Split; validation?: Split } {
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
 * The held-out data a run's model is judged on: the dataset's test split when it has one, else
 * the validation split the run held out (named so: it chose the best epoch, so it is not a test);
 * null when there is neither.
 */
export function heldOutSplit(dataset: Dataset, settings: SplitSettings): NamedSplit | null {
  if (dataset.test && dataset.test.count > 0) return { name: 'test', split: dataset.test }
  const { validation } = trainingSplits(dataset, settings)
  return validation ? { name: 'validation', split: validation } : null
}

/** The named split of `dataset` a run with `settings` would evaluate on, or null when it lacks it. */
export function namedSplit(
  dataset: Dataset,
  name: SplitName,
  settings: SplitSettings,
): Split | null {
  switch (name) {
    case 'test':
      return dataset.test && dataset.test.count > 0 ? dataset.test : null
    case 'validation':
      return trainingSplits(dataset, settings).validation ?? null
    case 'train':
      return trainingSplits(dataset, settings).train
  }
}
