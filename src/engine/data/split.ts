import { createRng } from './rng'
import { IMAGE_PIXELS, type Dataset, type Split } from './types'

/** Number of samples of each class, index-aligned with class indices 0..numClasses-1. */
export function classCounts(split: Split, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0)
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i]
    if (label >= numClasses) {
      throw new RangeError(
        `sample ${i} has label ${label} but there are only ${numClasses} classes`,
      )
    }
    counts[label]++
  }
  return counts
}

/**
 * A new split made of the given samples, in the given order (images, labels and the source file
 * names are copied). Its `origin` traces each sample back to the dataset split `split` came from.
 */
export function selectSamples(split: Split, indices: ArrayLike<number>): Split {
  const count = indices.length
  const images = new Uint8Array(count * IMAGE_PIXELS)
  const labels =
    split.labels instanceof Uint16Array ? new Uint16Array(count) : new Uint8Array(count)
  const origin = new Uint32Array(count)
  for (let i = 0; i < count; i++) {
    const src = indices[i]
    if (!(src >= 0 && src < split.count)) {
      throw new RangeError(`sample index ${src} is outside the split (${split.count} samples)`)
    }
    images.set(
      split.images.subarray(src * IMAGE_PIXELS, (src + 1) * IMAGE_PIXELS),
      i * IMAGE_PIXELS,
    )
    labels[i] = split.labels[src]
    origin[i] = split.origin ? split.origin[src]! : src
  }
  const files = split.files
  return files
    ? { images, labels, count, origin, files: Array.from(indices, (src) => files[src]!) }
    : { images, labels, count, origin }
}

/** How the key of a stored sample that came from a file starts: `file:` and its relative path. */
export const FILE_KEY_PREFIX = 'file:'

/**
 * The lasting key of stored sample `index` of `split` (the dataset's `from` split or a split
 * selected from it): `file:<path>` when the sample came from a file (a folder import: the path
 * relative to the folder, which a refresh that adds or removes other files does not move), else
 * `train:<i>`/`test:<i>`, its position in the stored copy (IDX files and built-in MNIST hold no
 * names, so their positions are all there is).
 */
export function storedKey(split: Split, from: 'train' | 'test', index: number): string {
  const file = split.files?.[index]
  if (file) return `${FILE_KEY_PREFIX}${file}`
  return `${from}:${split.origin ? split.origin[index]! : index}`
}

/** The position a `train:<i>`/`test:<i>` key names in split `from`, or null for other keys. */
export function positionOf(key: string, from: 'train' | 'test'): number | null {
  const prefix = `${from}:`
  if (!key.startsWith(prefix)) return null
  const position = Number(key.slice(prefix.length))
  return Number.isInteger(position) && position >= 0 ? position : null
}

/** True for a key that names a stored sample by its position (`train:<i>`, `test:<i>`). */
export function isPositionKey(key: string): boolean {
  return positionOf(key, 'train') !== null || positionOf(key, 'test') !== null
}

/**
 * The lasting key of sample `index` of `split`, a split of `dataset`'s `from` split or one
 * selected from it (a validation split, a limit): the key the edits log gave it, else
 * `storedKey`.
 */
export function sampleKey(
  dataset: Pick<Dataset, 'keys'>,
  from: 'train' | 'test',
  split: Split,
  index: number,
): string {
  const stored = split.origin ? split.origin[index]! : index
  return dataset.keys?.[from]?.[stored] ?? storedKey(split, from, index)
}

/** `dataset` with splits that trace back to nothing: how a dataset enters a cache as a root. */
export function asRoot<D extends Pick<Dataset, 'train' | 'test'>>(dataset: D): D {
  const strip = (split: Split): Split => {
    if (!split.origin) return split
    const { images, labels, count, files } = split
    return files ? { images, labels, count, files } : { images, labels, count }
  }
  return {
    ...dataset,
    train: strip(dataset.train),
    ...(dataset.test ? { test: strip(dataset.test) } : {}),
  }
}

/** Sample indices grouped by label value. */
function indicesByClass(split: Split): number[][] {
  const groups: number[][] = []
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i]
    while (groups.length <= label) groups.push([])
    groups[label].push(i)
  }
  return groups
}

/**
 * Splits off a validation set: in each class, round(fraction * size) randomly chosen samples (a class
 * always keeps at least one training sample). Seeded and deterministic; both parts keep the original
 * sample order.
 */
export function stratifiedSplit(
  split: Split,
  fraction: number,
  seed: number,
): { train: Split; validation: Split } {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`validation fraction must be in [0, 1), got ${fraction}`)
  }
  const rng = createRng(seed)
  const inValidation = new Uint8Array(split.count)
  for (const group of indicesByClass(split)) {
    const take = Math.min(Math.round(group.length * fraction), group.length - 1)
    if (take <= 0) continue
    rng.shuffle(group)
    for (let k = 0; k < take; k++) inValidation[group[k]] = 1
  }
  const train: number[] = []
  const validation: number[] = []
  for (let i = 0; i < split.count; i++) (inValidation[i] ? validation : train).push(i)
  return { train: selectSamples(split, train), validation: selectSamples(split, validation) }
}

/**
 * A stratified random subset of `n` samples: each class contributes in proportion to its size
 * (largest remainders get the leftover slots). Returns a copy of everything when n >= count.
 */
export function takeStratified(split: Split, n: number, seed: number): Split {
  if (!(Number.isInteger(n) && n >= 0))
    throw new RangeError(`n must be a non-negative integer, got ${n}`)
  if (n >= split.count)
    return selectSamples(
      split,
      Array.from({ length: split.count }, (_, i) => i),
    )
  const rng = createRng(seed)
  const groups = indicesByClass(split)
  const exact = groups.map((g) => (g.length * n) / split.count)
  const quota = exact.map(Math.floor)
  let left = n - quota.reduce((a, b) => a + b, 0)
  const byRemainder = exact
    .map((e, c) => ({ c, r: e - Math.floor(e) }))
    .filter(({ c }) => quota[c] < groups[c].length)
    .sort((a, b) => b.r - a.r || a.c - b.c)
  for (const { c } of byRemainder) {
    if (left === 0) break
    quota[c]++
    left--
  }
  const chosen: number[] = []
  groups.forEach((group, c) => {
    rng.shuffle(group)
    for (let k = 0; k < quota[c]; k++) chosen.push(group[k])
  })
  chosen.sort((a, b) => a - b)
  return selectSamples(split, chosen)
}
