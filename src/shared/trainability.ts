// Whether a dataset has enough samples to train on: one rule for the services (which refuse the
// run) and the renderer (which says so before Start, and counts drawings on the Draw view).

/** What the rule needs of a dataset: its name, its classes and their training sample counts. */
export interface TrainableDataset {
  name: string
  labels: readonly string[]
  trainCounts: readonly number[]
}

/** A class with too few samples, and how many it has. */
export interface ShortClass {
  label: string
  count: number
}

/**
 * The fewest samples a class needs: one to learn from and, with a validation split, one more
 * held out. A split holds out round(count x fraction) of each class (keeping one to train on),
 * so a class needs count x fraction >= 0.5 to give the validation split one sample.
 */
export function minSamplesPerClass(validationSplit: number): number {
  if (!(validationSplit > 0)) return 1
  return Math.max(2, Math.ceil(0.5 / validationSplit - 1e-9))
}

/** The classes of `dataset` under the minimum, in class order. */
export function shortClasses(dataset: TrainableDataset, validationSplit: number): ShortClass[] {
  const min = minSamplesPerClass(validationSplit)
  return dataset.labels
    .map((label, i) => ({ label, count: dataset.trainCounts[i] ?? 0 }))
    .filter((c) => c.count < min)
}

function samples(count: number): string {
  return count === 1 ? '1 sample' : `${count} samples`
}

/**
 * Why `dataset` cannot be trained with `validationSplit`, in one sentence a person can act on;
 * null when it can. Tiny datasets (a few drawings) get told exactly which class needs more.
 */
export function trainingProblem(dataset: TrainableDataset, validationSplit: number): string | null {
  const name = `“${dataset.name}”`
  if (dataset.labels.length < 2) {
    const has = dataset.labels.length === 0 ? 'no classes' : `one class (“${dataset.labels[0]}”)`
    return `${name} has ${has}; a model needs at least two: add samples of another class`
  }
  const short = shortClasses(dataset, validationSplit)
  if (!short.length) return null
  const min = minSamplesPerClass(validationSplit)
  const listed = short
    .slice(0, 5)
    .map((c) => `“${c.label}” has ${samples(c.count)}`)
    .join(', ')
  const more = short.length > 5 ? ` and ${short.length - 5} more` : ''
  const why =
    validationSplit > 0
      ? `with a ${+(validationSplit * 100).toFixed(1)}% validation split each class needs at least ${min} (one is held out to check the model); add samples, or lower the validation split`
      : 'each class needs at least one sample'
  return `${name} is too small to train: ${listed}${more}; ${why}`
}
