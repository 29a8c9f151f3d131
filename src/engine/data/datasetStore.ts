import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import { z } from 'zod'

import { exists } from '@shared/node/files'
import {
  DatasetSourceSchema,
  SkippedFileSchema,
  type DatasetSummary,
} from '@shared/schemas/dataset'

import { encodeIdx, parseIdx, parseIdxLabels16, readMaybeGzipped } from './idx'
import { classCounts } from './split'
import { DatasetError, IMAGE_PIXELS, IMAGE_SIZE, type Dataset, type Split } from './types'

const gzip = promisify(gzipCallback)

/** Name of the metadata file of a saved dataset. */
export const DATASET_JSON = 'dataset.json'

const FileNameSchema = z.string().regex(/^[\w.-]+$/, 'a plain file name')

/** `dataset.json`: everything about a saved dataset except the pixels and labels. */
const SavedDatasetSchema = z.object({
  format: z.literal('inklab-dataset'),
  formatVersion: z.literal(1),
  name: z.string(),
  labels: z.array(z.string()).min(1),
  source: DatasetSourceSchema,
  skipped: z.array(SkippedFileSchema),
  transposed: z.boolean(),
  trainCount: z.number().int().nonnegative(),
  testCount: z.number().int().nonnegative().optional(),
  /** When the copy was made (ISO time); copies saved before it was recorded have their file's time. */
  importedAt: z.string().optional(),
  files: z.object({
    trainImages: FileNameSchema,
    trainLabels: FileNameSchema,
    testImages: FileNameSchema.optional(),
    testLabels: FileNameSchema.optional(),
    /** JSON `{ train: string[], test?: string[] }`: the file each sample was imported from. */
    sources: FileNameSchema.optional(),
  }),
})

/** The source files of a dataset's samples, split by split (`sources.json`). */
const SourcesSchema = z.object({
  train: z.array(z.string()),
  test: z.array(z.string()).optional(),
})
type SavedDataset = z.infer<typeof SavedDatasetSchema>

/** Options of saveDataset. */
export interface SaveDatasetOptions {
  /** Gzip the IDX files (smaller, slower to write). Default false. */
  gzip?: boolean
}

function checkSplit(split: Split, numClasses: number, what: string): void {
  if (split.images.length !== split.count * IMAGE_PIXELS || split.labels.length !== split.count) {
    throw new DatasetError(
      `${what} split is inconsistent: ${split.count} samples but ${split.images.length} image bytes and ${split.labels.length} labels`,
    )
  }
  if (split.files && split.files.length !== split.count) {
    throw new DatasetError(
      `${what} split is inconsistent: ${split.count} samples but ${split.files.length} source files`,
    )
  }
  classCounts(split, numClasses)
}

/**
 * Saves a dataset as IDX files plus `dataset.json`. Written into a temporary sibling folder and renamed
 * into place, so `dir` holds either the previous complete dataset or the new one, never a mix.
 */
export async function saveDataset(
  dir: string,
  dataset: Dataset,
  opts: SaveDatasetOptions = {},
): Promise<void> {
  checkSplit(dataset.train, dataset.labels.length, 'train')
  if (dataset.test) checkSplit(dataset.test, dataset.labels.length, 'test')
  const suffix = opts.gzip ? '.gz' : ''
  const encode = async (bytes: Uint8Array): Promise<Uint8Array> => (opts.gzip ? gzip(bytes) : bytes)
  const files: SavedDataset['files'] = {
    trainImages: `train-images-idx3-ubyte${suffix}`,
    trainLabels: `train-labels-idx1-ubyte${suffix}`,
    ...(dataset.test
      ? {
          testImages: `test-images-idx3-ubyte${suffix}`,
          testLabels: `test-labels-idx1-ubyte${suffix}`,
        }
      : {}),
    ...(dataset.train.files ? { sources: 'sources.json' } : {}),
  }
  const meta: SavedDataset = {
    format: 'inklab-dataset',
    formatVersion: 1,
    name: dataset.name,
    labels: dataset.labels,
    source: dataset.source,
    skipped: dataset.skipped,
    transposed: dataset.transposed,
    trainCount: dataset.train.count,
    ...(dataset.test ? { testCount: dataset.test.count } : {}),
    importedAt: dataset.importedAt ?? new Date().toISOString(),
    files,
  }

  const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`
  await mkdir(dirname(dir), { recursive: true })
  await mkdir(tmp)
  try {
    const writeSplit = async (split: Split, imagesFile: string, labelsFile: string) => {
      await writeFile(
        join(tmp, imagesFile),
        await encode(encodeIdx([split.count, IMAGE_SIZE, IMAGE_SIZE], split.images)),
      )
      await writeFile(join(tmp, labelsFile), await encode(encodeIdx([split.count], split.labels)))
    }
    await writeSplit(dataset.train, files.trainImages, files.trainLabels)
    if (dataset.test && files.testImages && files.testLabels) {
      await writeSplit(dataset.test, files.testImages, files.testLabels)
    }
    if (files.sources) {
      const sources = {
        train: dataset.train.files,
        ...(dataset.test?.files ? { test: dataset.test.files } : {}),
      }
      await writeFile(join(tmp, files.sources), JSON.stringify(sources))
    }
    await writeFile(join(tmp, DATASET_JSON), JSON.stringify(meta, null, 2) + '\n')
    if (await exists(dir)) {
      const old = `${dir}.old-${randomBytes(6).toString('hex')}`
      await rename(dir, old)
      await rename(tmp, dir)
      await rm(old, { recursive: true, force: true })
    } else {
      await rename(tmp, dir)
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
}

async function readMeta(dir: string): Promise<SavedDataset> {
  const path = join(dir, DATASET_JSON)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      const isDir = await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      )
      throw new DatasetError(
        isDir ? `not a saved InkLab dataset (no ${DATASET_JSON})` : 'folder not found',
        isDir ? path : dir,
        { cause: err },
      )
    }
    throw new DatasetError(`cannot read (${String(code ?? err)})`, path, { cause: err })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new DatasetError(`not valid JSON (${(err as Error).message})`, path, { cause: err })
  }
  const parsed = SavedDatasetSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new DatasetError(`invalid: ${issue.path.join('.') || '(root)'}: ${issue.message}`, path)
  }
  return parsed.data
}

async function readSplit(
  dir: string,
  imagesFile: string,
  labelsFile: string,
  count: number,
  numClasses: number,
): Promise<Split> {
  const imagesPath = join(dir, imagesFile)
  const labelsPath = join(dir, labelsFile)
  const [imageBytes, labelBytes] = await Promise.all([
    readMaybeGzipped(imagesPath),
    readMaybeGzipped(labelsPath),
  ])
  const images = parseIdx(imageBytes, imagesPath)
  const labels = parseIdxLabels16(labelBytes, labelsPath)
  const [n, rows, cols] = images.dims
  if (images.dims.length !== 3 || rows !== IMAGE_SIZE || cols !== IMAGE_SIZE || n !== count) {
    throw new DatasetError(
      `expected ${count} images of 28x28 as recorded in ${DATASET_JSON}, found ${images.dims.join('x')}`,
      imagesPath,
    )
  }
  if (labels.length !== count) {
    throw new DatasetError(
      `expected ${count} labels as recorded in ${DATASET_JSON}, found ${labels.length}`,
      labelsPath,
    )
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new DatasetError(
        `label ${labels[i]} of sample ${i} is not one of the ${numClasses} classes`,
        labelsPath,
      )
    }
  }
  return { images: new Uint8Array(images.data), labels, count }
}

/** The source file names of a saved dataset, or null when they cannot be read (they are optional). */
async function readSources(
  dir: string,
  file: string,
): Promise<z.infer<typeof SourcesSchema> | null> {
  try {
    const parsed = SourcesSchema.safeParse(JSON.parse(await readFile(join(dir, file), 'utf8')))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

/** Loads a dataset written by saveDataset, checking every file against `dataset.json`. */
export async function loadSavedDataset(dir: string): Promise<Dataset> {
  const meta = await readMeta(dir)
  const k = meta.labels.length
  const train = await readSplit(
    dir,
    meta.files.trainImages,
    meta.files.trainLabels,
    meta.trainCount,
    k,
  )
  let test: Split | undefined
  if (meta.files.testImages && meta.files.testLabels) {
    test = await readSplit(
      dir,
      meta.files.testImages,
      meta.files.testLabels,
      meta.testCount ?? 0,
      k,
    )
  }
  if (meta.files.sources) {
    const sources = await readSources(dir, meta.files.sources)
    // Names that do not match their split are dropped, never misattributed.
    if (sources?.train.length === train.count) train.files = sources.train
    if (test && sources?.test?.length === test.count) test.files = sources.test
  }
  // dataset.json is written once, when the copy is made: its time is the copy's.
  const importedAt = meta.importedAt ?? (await stat(join(dir, DATASET_JSON))).mtime.toISOString()
  return {
    name: meta.name,
    labels: meta.labels,
    train,
    ...(test ? { test } : {}),
    source: meta.source,
    skipped: meta.skipped,
    transposed: meta.transposed,
    importedAt,
  }
}

/** Serializable description of a dataset (no pixels) for the UI and the CLI. */
export function summarizeDataset(dataset: Dataset, id: string): DatasetSummary {
  const k = dataset.labels.length
  return {
    id,
    name: dataset.name,
    source: dataset.source,
    labels: [...dataset.labels],
    trainCounts: classCounts(dataset.train, k),
    ...(dataset.test ? { testCounts: classCounts(dataset.test, k) } : {}),
    trainSize: dataset.train.count,
    testSize: dataset.test?.count ?? 0,
    skipped: [...dataset.skipped],
    ...(dataset.edits ? { edits: { ...dataset.edits } } : {}),
  }
}

/** Leftover temporary folders of interrupted saves next to `dir` (for cleanup tools and tests). */
export async function listTemporarySiblings(dir: string): Promise<string[]> {
  const parent = dirname(dir)
  const base = dir.slice(parent.length + 1)
  const names = await readdir(parent).catch(() => [] as string[])
  return names
    .filter((n) => n.startsWith(`${base}.tmp-`) || n.startsWith(`${base}.old-`))
    .map((n) => join(parent, n))
}
