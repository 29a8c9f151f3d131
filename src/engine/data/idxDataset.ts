import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

import { readIdxFile, type IdxArray } from './idx'
import { DatasetError, IMAGE_PIXELS, IMAGE_SIZE, type Dataset, type Split } from './types'

/** Options for loading IDX datasets. */
export interface IdxLoadOptions {
  /** Class names, index-aligned with the (contiguous) label indices. Overrides mapping files. */
  labelNames?: string[]
  /** Dataset name; defaults to the file prefix (e.g. "emnist-letters") or the folder name. */
  name?: string
  /** Which set to load when a folder holds several (e.g. "emnist-digits" among all EMNIST splits). */
  prefix?: string
}

type SplitName = 'train' | 'test'
type Role = 'images' | 'labels'

interface IdxFileSet {
  prefix: string
  files: Partial<Record<`${SplitName}-${Role}`, string>>
}

const SPLIT_SUFFIX = /^(?:(.*)[-_.])?(train|training|t10k|test)$/
const ROLE_SUFFIX = /^(.*?)(images|imgs|labels|lbls)$/
const IDX_SUFFIX = /[-_.]idx[13][-_.]ubyte$/

/**
 * Recognises `[prefix-]<split>-<images|labels>[-idx3-ubyte][.gz]` in the usual spellings: MNIST, Fashion
 * and KMNIST (`train-images-idx3-ubyte.gz`, `t10k-labels.idx1-ubyte`), EMNIST
 * (`emnist-letters-test-images-idx3-ubyte`) and `k49-train-imgs` style.
 */
function classify(name: string): { prefix: string; split: SplitName; role: Role } | undefined {
  let stem = name.toLowerCase().replace(/\.gz$/, '')
  const hasIdxSuffix = IDX_SUFFIX.test(stem)
  stem = stem.replace(IDX_SUFFIX, '')
  const role = ROLE_SUFFIX.exec(stem)
  if (!role) return undefined
  const before = role[1].replace(/[-_.]$/, '')
  const split = SPLIT_SUFFIX.exec(before)
  // A bare "images" file without a split or an idx suffix is too generic to trust.
  if (!split && !hasIdxSuffix) return undefined
  return {
    prefix: split ? (split[1] ?? '') : before,
    split: split && (split[2] === 't10k' || split[2] === 'test') ? 'test' : 'train',
    role: role[2] === 'images' || role[2] === 'imgs' ? 'images' : 'labels',
  }
}

async function findFileSets(dir: string): Promise<{ sets: IdxFileSet[]; names: string[] }> {
  let names: string[]
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => !d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new DatasetError('folder not found', dir, { cause: err })
    if (code === 'ENOTDIR') throw new DatasetError('not a folder', dir, { cause: err })
    throw new DatasetError(`cannot read folder (${String(code ?? err)})`, dir, { cause: err })
  }
  const byPrefix = new Map<string, IdxFileSet>()
  for (const name of names) {
    const info = classify(name)
    if (!info) continue
    const set = byPrefix.get(info.prefix) ?? { prefix: info.prefix, files: {} }
    const key = `${info.split}-${info.role}` as const
    // Prefer the plain file over a .gz twin only when both exist (same bytes either way).
    if (!set.files[key] || name.endsWith('.gz')) set.files[key] = join(dir, name)
    byPrefix.set(info.prefix, set)
  }
  return { sets: [...byPrefix.values()], names }
}

/** Reads an EMNIST `*-mapping.txt`: "<index> <ascii code> [<ascii code>...]" per line. */
async function readMapping(path: string): Promise<Map<number, string>> {
  const text = await readFile(path, 'utf8')
  const mapping = new Map<number, string>()
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim()
    if (!trimmed) return
    const parts = trimmed.split(/\s+/).map(Number)
    if (parts.length < 2 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 0x10ffff)) {
      throw new DatasetError(`line ${i + 1} is not "<index> <character code>": "${trimmed}"`, path)
    }
    const chars = [...new Set(parts.slice(1).map((c) => String.fromCodePoint(c)))]
    mapping.set(parts[0], chars.join('/'))
  })
  if (mapping.size < 2) throw new DatasetError('mapping lists fewer than two classes', path)
  return mapping
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/** Transposes every 28x28 image in place (EMNIST stores them column-major). */
export function transposeImages(images: Uint8Array): void {
  const tmp = new Uint8Array(IMAGE_PIXELS)
  for (let off = 0; off < images.length; off += IMAGE_PIXELS) {
    for (let y = 0; y < IMAGE_SIZE; y++) {
      for (let x = 0; x < IMAGE_SIZE; x++)
        tmp[y * IMAGE_SIZE + x] = images[off + x * IMAGE_SIZE + y]
    }
    images.set(tmp, off)
  }
}

interface RawPair {
  images: IdxArray
  labels: IdxArray
  imagesPath: string
  labelsPath: string
}

async function readPair(imagesPath: string, labelsPath: string): Promise<RawPair> {
  const [images, labels] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)])
  if (images.dims.length !== 3) {
    throw new DatasetError(
      `expected an image file (3 dimensions: count, rows, columns) but the header has ${images.dims.length}`,
      imagesPath,
    )
  }
  if (images.dims[1] !== IMAGE_SIZE || images.dims[2] !== IMAGE_SIZE) {
    throw new DatasetError(
      `images are ${images.dims[1]}x${images.dims[2]} but InkLab needs ${IMAGE_SIZE}x${IMAGE_SIZE} images`,
      imagesPath,
    )
  }
  if (labels.dims.length !== 1) {
    throw new DatasetError(
      `expected a label file (1 dimension) but the header has ${labels.dims.length}`,
      labelsPath,
    )
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new DatasetError(
      `${images.dims[0]} images, but ${basename(labelsPath)} has ${labels.dims[0]} labels`,
      imagesPath,
    )
  }
  return { images, labels, imagesPath, labelsPath }
}

/**
 * Maps raw label values to contiguous class indices 0..K-1.
 * `valueToIndex[v]` is the class of raw value v, or -1 when v is not a known class.
 */
interface LabelPlan {
  names: string[]
  valueToIndex: Int16Array
}

function planLabels(
  pairs: RawPair[],
  mapping: Map<number, string> | undefined,
  labelNames: string[] | undefined,
): LabelPlan {
  const valueToIndex = new Int16Array(256).fill(-1)
  let names: string[]
  if (mapping) {
    const values = [...mapping.keys()].sort((a, b) => a - b)
    values.forEach((v, i) => {
      if (v < 256) valueToIndex[v] = i
    })
    names = values.map((v) => mapping.get(v) ?? String(v))
  } else if (labelNames) {
    for (let v = 0; v < Math.min(256, labelNames.length); v++) valueToIndex[v] = v
    names = [...labelNames]
  } else {
    const seen = new Uint8Array(256)
    for (const pair of pairs) for (const v of pair.labels.data) seen[v] = 1
    names = []
    for (let v = 0; v < 256; v++) {
      if (seen[v]) valueToIndex[v] = names.push(String(v)) - 1
    }
  }
  if (labelNames && mapping) {
    if (labelNames.length !== names.length) {
      throw new DatasetError(
        `${labelNames.length} label names were given but the mapping lists ${names.length} classes`,
      )
    }
    names = [...labelNames]
  }
  return { names, valueToIndex }
}

function toSplit(pair: RawPair, plan: LabelPlan, transpose: boolean): Split {
  const count = pair.images.dims[0]
  // Copy so the split owns compact buffers (the IDX views may sit in larger decoded buffers).
  const images = new Uint8Array(pair.images.data)
  if (transpose) transposeImages(images)
  const labels = new Uint8Array(count)
  const raw = pair.labels.data
  for (let i = 0; i < count; i++) {
    const index = plan.valueToIndex[raw[i]]
    if (index < 0) {
      throw new DatasetError(
        `label ${raw[i]} of sample ${i} is not one of the ${plan.names.length} known classes`,
        pair.labelsPath,
      )
    }
    labels[i] = index
  }
  return { images, labels, count }
}

function checkClassCount(plan: LabelPlan, file: string): void {
  if (plan.names.length < 2) {
    throw new DatasetError(
      `labels contain ${plan.names.length} class; at least two are needed`,
      file,
    )
  }
}

/**
 * Loads an IDX dataset from a folder: train (and, when present, test) image and label files under the
 * usual MNIST / Fashion-MNIST / KMNIST / EMNIST names. EMNIST images are transposed back and labelled
 * through `emnist-<split>-mapping.txt`.
 */
export async function loadIdxDirectory(dir: string, opts: IdxLoadOptions = {}): Promise<Dataset> {
  const { sets, names } = await findFileSets(dir)
  let candidates = sets.filter((s) => s.files['train-images'] || s.files['test-images'])
  if (opts.prefix !== undefined) {
    const wanted = opts.prefix.toLowerCase()
    candidates = candidates.filter((s) => s.prefix === wanted)
    if (candidates.length === 0) {
      throw new DatasetError(`no IDX files with the prefix "${opts.prefix}"`, dir)
    }
  }
  if (candidates.length === 0) {
    const npz = names.some((n) => n.toLowerCase().endsWith('.npz'))
    throw new DatasetError(
      npz
        ? 'no IDX image files found (.npz archives are not supported; use the IDX version of the dataset)'
        : 'no IDX image files found (expected names like train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz)',
      dir,
    )
  }
  if (candidates.length > 1) {
    const list = candidates.map((s) => s.prefix || '(no prefix)').join(', ')
    throw new DatasetError(
      `the folder holds several IDX datasets (${list}); choose one with the prefix option`,
      dir,
    )
  }
  const set = candidates[0]
  const { files } = set
  const trainImages = files['train-images']
  const trainLabels = files['train-labels']
  if (!trainImages) {
    throw new DatasetError(
      `found test files but no training images (${set.prefix ? set.prefix + '-' : ''}train-images-idx3-ubyte)`,
      dir,
    )
  }
  if (!trainLabels) {
    throw new DatasetError(
      'no matching label file (train-labels-idx1-ubyte) in the folder',
      trainImages,
    )
  }
  if (files['test-images'] && !files['test-labels']) {
    throw new DatasetError(
      'no matching label file (t10k-labels-idx1-ubyte) in the folder',
      files['test-images'],
    )
  }
  if (!files['test-images'] && files['test-labels']) {
    throw new DatasetError(
      'no matching image file (t10k-images-idx3-ubyte) in the folder',
      files['test-labels'],
    )
  }

  const emnist = set.prefix.startsWith('emnist')
  const mappingPath = set.prefix ? join(dir, `${set.prefix}-mapping.txt`) : undefined
  const mapping =
    mappingPath && (await fileExists(mappingPath)) ? await readMapping(mappingPath) : undefined

  const pairs = await Promise.all([
    readPair(trainImages, trainLabels),
    ...(files['test-images'] && files['test-labels']
      ? [readPair(files['test-images'], files['test-labels'])]
      : []),
  ])
  const plan = planLabels(pairs, mapping, opts.labelNames)
  checkClassCount(plan, trainLabels)
  const [train, test] = pairs.map((p) => toSplit(p, plan, emnist))
  return {
    name: opts.name ?? (set.prefix || basename(dir)),
    labels: plan.names,
    train,
    ...(test ? { test } : {}),
    source: { kind: 'idx', path: dir },
    skipped: [],
    transposed: emnist,
  }
}

/** Loads a single IDX image/label pair as a dataset with a training split only. */
export async function loadIdxPair(
  imagesPath: string,
  labelsPath: string,
  opts: IdxLoadOptions & { transpose?: boolean } = {},
): Promise<Dataset> {
  const pair = await readPair(imagesPath, labelsPath)
  const plan = planLabels([pair], undefined, opts.labelNames)
  checkClassCount(plan, labelsPath)
  const transposed = opts.transpose ?? false
  return {
    name: opts.name ?? (classify(basename(imagesPath))?.prefix || basename(dirname(imagesPath))),
    labels: plan.names,
    train: toSplit(pair, plan, transposed),
    source: { kind: 'idx', path: imagesPath },
    skipped: [],
    transposed,
  }
}

/** Builds a dataset from two already-parsed IDX pairs (used by the built-in MNIST loader). */
export async function loadIdxSplits(
  train: { images: string; labels: string },
  test: { images: string; labels: string } | undefined,
  labelNames: string[],
): Promise<{ train: Split; test?: Split; labels: string[] }> {
  const pairs = await Promise.all([
    readPair(train.images, train.labels),
    ...(test ? [readPair(test.images, test.labels)] : []),
  ])
  const plan = planLabels(pairs, undefined, labelNames)
  const [trainSplit, testSplit] = pairs.map((p) => toSplit(p, plan, false))
  return { train: trainSplit, ...(testSplit ? { test: testSplit } : {}), labels: plan.names }
}
