import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'

import { errorMessage } from '@shared/errors'
import {
  DEFAULT_TEST_SPLIT,
  IMAGE_EXTENSIONS,
  isImageFileName,
  TEST_SPLIT_SEED,
  type DatasetSource,
  type ImportProgress,
  type SkippedFile,
  type TestSplit,
} from '@shared/schemas/dataset'
import { toFileSystemError } from '@shared/node/files'

import { readInputFile } from './files'
import { decodeImageBuffer, MAX_IMAGE_FILE_BYTES } from './imageDecode'
import { preprocess } from './preprocess'
import { TEST_FOLDER_PREFIX } from './sources'
import { stratifiedSplit } from './split'
import { DatasetError, IMAGE_PIXELS, type Dataset, type Split } from './types'

export { IMAGE_EXTENSIONS }
/** Images decoded in parallel by default (each one is a sharp/libvips job). */
export const DEFAULT_IMPORT_CONCURRENCY = 4
/** Minimum time between two 'decoding' progress events. */
const PROGRESS_INTERVAL_MS = 100

/** Options of importFolder. */
export interface ImportFolderOptions {
  onProgress?: (progress: ImportProgress) => void
  signal?: AbortSignal
  /** Images decoded in parallel (1-16, default 4). */
  concurrency?: number
  /**
   * The held-out test split: a share of each class (`{ fraction }`, 0 for none) or a folder of
   * its own with the same class folders (`{ folder }`). Default: a `train` and a `test` folder
   * side by side when the folder has exactly those, else `DEFAULT_TEST_SPLIT` of each class.
   */
  test?: TestSplit
}

/** Folder names that mark a folder already split into training and test images. */
const TRAIN_FOLDER = /^(train|training)$/i
const TEST_FOLDER = /^(test|testing)$/i

/** Natural order ("2" before "10"), ties broken by code units so the order is total. */
function naturalComparator(): (a: string, b: string) => number {
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })
  return (a, b) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0)
}

/** The error to throw when cancelled: the signal's reason, or a DOMException named AbortError. */
function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('Import cancelled', 'AbortError')
}

interface ImageTask {
  path: string
  /** Path relative to the import root, with forward slashes. */
  rel: string
  classIndex: number
  /** The sample goes to the test split (it comes from the test folder). */
  test: boolean
}

/** Why a symbolic link to a folder is skipped. */
export const LINKED_FOLDER_REASON = 'symbolic link to a folder: not followed'

/**
 * What a folder entry is. Symbolic links to folders are not followed: one pointing at an ancestor
 * (`a/up -> ..`) would be scanned over and over, and one pointing at another class folder would
 * import its images twice under the wrong label. Symbolic links to files are read.
 */
async function entryKind(
  entry: Dirent,
  path: string,
): Promise<'folder' | 'linked-folder' | 'file'> {
  if (entry.isDirectory()) return 'folder'
  if (!entry.isSymbolicLink()) return 'file'
  const target = await stat(path).catch(() => undefined)
  return target?.isDirectory() ? 'linked-folder' : 'file'
}

/** What a scan collects, and how it sorts and stops. */
interface Scan {
  compare: (a: string, b: string) => number
  tasks: ImageTask[]
  skipped: SkippedFile[]
  signal: AbortSignal | undefined
}

async function sortedEntries(dir: string, compare: Scan['compare']): Promise<Dirent[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  return entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => compare(a.name, b.name))
}

/** Lists a class folder recursively: image files become tasks, anything else is skipped. */
async function scanClass(
  dir: string,
  rel: string,
  classIndex: number,
  scan: Scan,
  test: boolean,
): Promise<void> {
  const { tasks, skipped, signal } = scan
  if (signal?.aborted) throw abortError(signal)
  let entries: Dirent[]
  try {
    entries = await sortedEntries(dir, scan.compare)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err)
    skipped.push({ file: `${rel}/`, reason: `cannot read folder (${code})` })
    return
  }
  for (const entry of entries) {
    const path = join(dir, entry.name)
    const entryRel = `${rel}/${entry.name}`
    const kind = await entryKind(entry, path)
    if (kind === 'folder') {
      await scanClass(path, entryRel, classIndex, scan, test)
    } else if (kind === 'linked-folder') {
      skipped.push({ file: `${entryRel}/`, reason: LINKED_FOLDER_REASON })
    } else {
      const ext = extname(entry.name).toLowerCase()
      if (!isImageFileName(entry.name)) {
        skipped.push({ file: entryRel, reason: `unsupported file type (${ext || 'no extension'})` })
      } else if (
        entry.isFIFO() ||
        entry.isSocket() ||
        entry.isCharacterDevice() ||
        entry.isBlockDevice()
      ) {
        // Reading one would block or never end.
        skipped.push({ file: entryRel, reason: 'not a regular file (a pipe, socket or device)' })
      } else {
        tasks.push({ path, rel: entryRel, classIndex, test })
      }
    }
  }
}

/** The image files `findImageFiles` found, and what it passed over. */
export interface ImageFileListing {
  /** Paths (`dir` joined with the path inside it), in natural order, depth first. */
  files: string[]
  /** How many files were passed over for their extension (not images). */
  otherFiles: number
  /** Everything else not used, with the reason: pipes named like images, unreadable folders... */
  skipped: SkippedFile[]
}

/**
 * The image files under `dir`, recursively, by the rule folder import uses: hidden entries are
 * passed over, symbolic links to folders are not followed, and files with other extensions and
 * pipes, sockets or devices named like images are skipped (skipped paths start with `dir`).
 * Throws a FileSystemError naming `dir` when it cannot be read.
 */
export async function findImageFiles(
  dir: string,
  options: { signal?: AbortSignal } = {},
): Promise<ImageFileListing> {
  const root = dir.replace(/[\\/]+$/, '') || dir
  await readdir(root).catch((error: unknown) => {
    throw toFileSystemError(error, root)
  })
  const scan: Scan = {
    compare: naturalComparator(),
    tasks: [],
    skipped: [],
    signal: options.signal,
  }
  await scanClass(root, root, 0, scan, false)
  const notImage = (s: SkippedFile): boolean =>
    !s.file.endsWith('/') && !isImageFileName(basename(s.file))
  return {
    files: scan.tasks.map((task) => task.path),
    otherFiles: scan.skipped.filter(notImage).length,
    skipped: scan.skipped.filter((s) => !notImage(s)),
  }
}

/** Decodes and preprocesses one file; returns the 784 pixels or the reason it cannot be used. */
async function loadSample(task: ImageTask): Promise<Uint8Array | string> {
  try {
    const bytes = await readInputFile(task.path, { maxBytes: MAX_IMAGE_FILE_BYTES })
    const image = await decodeImageBuffer(bytes, task.path)
    const { pixels, empty } = preprocess(image)
    return empty ? 'no ink found (blank image)' : pixels
  } catch (err) {
    if (err instanceof DatasetError) return err.problem
    return errorMessage(err)
  }
}

/** The class folders at the top of `dir` (others are listed as skipped, under `prefix`). */
async function classFolders(
  dir: string,
  prefix: string,
  scan: Scan,
): Promise<{ names: string[]; dirs: string[] }> {
  const names: string[] = []
  const dirs: string[] = []
  for (const entry of await sortedEntries(dir, scan.compare)) {
    const path = join(dir, entry.name)
    const kind = await entryKind(entry, path)
    if (kind === 'folder') {
      names.push(entry.name)
      dirs.push(path)
    } else if (kind === 'linked-folder') {
      scan.skipped.push({ file: `${prefix}${entry.name}/`, reason: LINKED_FOLDER_REASON })
    } else {
      scan.skipped.push({
        file: `${prefix}${entry.name}`,
        reason: 'not inside a class folder (put each class in its own subfolder)',
      })
    }
  }
  return { names, dirs }
}

/** `dir` as a folder that must exist, or the DatasetError that says why it cannot be read. */
async function requireFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    throw new DatasetError(
      err.code === 'ENOENT'
        ? 'folder not found'
        : `cannot open folder (${err.code ?? err.message})`,
      dir,
      { cause: err },
    )
  })
  if (!info.isDirectory()) throw new DatasetError('not a folder', dir)
}

/** Where the training and the test images are, and how the test split is made. */
interface Layout {
  train: { dir: string; prefix: string }
  test: { dir: string; prefix: string } | null
  split: TestSplit
}

/** Reads the layout from the options, or finds a `train` + `test` pair inside `dir`. */
async function layoutOf(dir: string, options: ImportFolderOptions, scan: Scan): Promise<Layout> {
  if (options.test && 'folder' in options.test) {
    await requireFolder(options.test.folder)
    return {
      train: { dir, prefix: '' },
      test: { dir: options.test.folder, prefix: TEST_FOLDER_PREFIX },
      split: options.test,
    }
  }
  if (!options.test) {
    const entries = (await sortedEntries(dir, scan.compare)).filter((e) => e.isDirectory())
    const train = entries.find((e) => TRAIN_FOLDER.test(e.name))
    const test = entries.find((e) => TEST_FOLDER.test(e.name))
    if (train && test && entries.length === 2) {
      return {
        train: { dir: join(dir, train.name), prefix: `${train.name}/` },
        test: { dir: join(dir, test.name), prefix: `${test.name}/` },
        split: { folder: join(dir, test.name) },
      }
    }
  }
  return {
    train: { dir, prefix: '' },
    test: null,
    split: options.test ?? { fraction: DEFAULT_TEST_SPLIT },
  }
}

/** Decodes every task, `concurrency` at a time; results keep the scan order. */
async function decodeAll(
  tasks: ImageTask[],
  concurrency: number,
  onProgress: ImportFolderOptions['onProgress'],
  signal: AbortSignal | undefined,
): Promise<(Uint8Array | string)[]> {
  const results = new Array<Uint8Array | string>(tasks.length)
  let next = 0
  let done = 0
  let lastReport = 0
  const report = (file?: string): void => {
    const now = performance.now()
    if (done !== tasks.length && done !== 0 && now - lastReport < PROGRESS_INTERVAL_MS) return
    lastReport = now
    onProgress?.({ phase: 'decoding', done, total: tasks.length, ...(file ? { file } : {}) })
  }
  report()
  const worker = async (): Promise<void> => {
    while (next < tasks.length && !signal?.aborted) {
      const index = next++
      results[index] = await loadSample(tasks[index])
      done++
      report(tasks[index].rel)
    }
  }
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    if (!signal) return
    onAbort = () => reject(abortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    await Promise.race([Promise.all(Array.from({ length: concurrency }, worker)), aborted])
  } finally {
    if (signal && onAbort) signal.removeEventListener('abort', onAbort)
  }
  signal?.throwIfAborted()
  return results
}

/** The tasks at `indices` whose pixels decoded, as a split with each sample's source file. */
function assemble(
  indices: number[],
  tasks: ImageTask[],
  results: (Uint8Array | string)[],
  classIndex: Int32Array,
  wide: boolean,
): Split {
  const kept = indices.filter(
    (i) => typeof results[i] !== 'string' && classIndex[tasks[i].classIndex] >= 0,
  )
  const images = new Uint8Array(kept.length * IMAGE_PIXELS)
  const labels = wide ? new Uint16Array(kept.length) : new Uint8Array(kept.length)
  kept.forEach((task, i) => {
    images.set(results[task] as Uint8Array, i * IMAGE_PIXELS)
    labels[i] = classIndex[tasks[task].classIndex]
  })
  return { images, labels, count: kept.length, files: kept.map((i) => tasks[i].rel) }
}

/**
 * Imports a folder with one subfolder per class (the folder name is the label, sorted
 * naturally). Class folders are searched recursively (symbolic links to folders are skipped, not
 * followed); PNG, JPEG, BMP, GIF, WebP and TIFF files are decoded and preprocessed; every file
 * that cannot be used is listed in `skipped` with the reason, and each sample keeps the name of
 * its file.
 *
 * The dataset gets a held-out test split that training never touches: the images of a test
 * folder (a `train` and a `test` folder side by side, or `options.test.folder`), else a
 * stratified share of each class (`DEFAULT_TEST_SPLIT`, seeded with `TEST_SPLIT_SEED` so every
 * import of a folder holds out the same images). Cancelling through `signal` rejects promptly
 * with an AbortError.
 */
export async function importFolder(dir: string, opts: ImportFolderOptions = {}): Promise<Dataset> {
  const { onProgress, signal } = opts
  const concurrency = Math.min(
    16,
    Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_IMPORT_CONCURRENCY)),
  )
  signal?.throwIfAborted()
  await requireFolder(dir)

  const scan: Scan = { compare: naturalComparator(), tasks: [], skipped: [], signal }
  const layout = await layoutOf(dir, opts, scan)
  // Scanning: class folders at the top level, files directly in the root are not labelled.
  const train = await classFolders(layout.train.dir, layout.train.prefix, scan)
  if (train.names.length === 0) {
    throw new DatasetError(
      'no class folders found: put the images of each class in a subfolder named after the class',
      layout.train.dir,
    )
  }
  const test = layout.test
    ? await classFolders(layout.test.dir, layout.test.prefix, scan)
    : { names: [], dirs: [] }
  const foreign = test.names.filter((name) => !train.names.includes(name))
  if (foreign.length > 0) {
    throw new DatasetError(
      `the test folder has classes the training folder lacks: ${foreign.map((n) => `"${n}"`).join(', ')}`,
      layout.test!.dir,
    )
  }
  const classNames = train.names
  const total = train.names.length + test.names.length
  for (let c = 0; c < train.names.length; c++) {
    onProgress?.({ phase: 'scanning', done: c, total, file: train.names[c] })
    await scanClass(train.dirs[c], `${layout.train.prefix}${train.names[c]}`, c, scan, false)
  }
  for (let t = 0; t < test.names.length; t++) {
    onProgress?.({ phase: 'scanning', done: train.names.length + t, total, file: test.names[t] })
    const c = classNames.indexOf(test.names[t])
    await scanClass(test.dirs[t], `${layout.test!.prefix}${test.names[t]}`, c, scan, true)
  }
  onProgress?.({ phase: 'scanning', done: total, total })

  const { tasks, skipped } = scan
  const results = await decodeAll(tasks, concurrency, onProgress, signal)

  // Assemble: classes without any usable training image are dropped (and reported).
  const perClass = new Array<number>(classNames.length).fill(0)
  results.forEach((r, i) => {
    if (typeof r === 'string') skipped.push({ file: tasks[i].rel, reason: r })
    else if (!tasks[i].test) perClass[tasks[i].classIndex]++
  })
  const usableClasses = classNames.filter((_, c) => perClass[c] > 0)
  const emptyClasses = classNames.filter((_, c) => perClass[c] === 0)
  const usable = perClass.reduce((a, b) => a + b, 0)
  if (usable === 0) {
    throw new DatasetError(
      `no usable images found (${tasks.length} image files, ${skipped.length} files skipped)`,
      dir,
    )
  }
  if (usableClasses.length < 2) {
    throw new DatasetError(
      `at least two classes with usable images are needed, but only "${usableClasses[0]}" has any; ` +
        `no usable images in: ${emptyClasses.map((n) => `"${n}"`).join(', ') || '(no other class folders)'}`,
      dir,
    )
  }
  for (const name of emptyClasses)
    skipped.push({
      file: `${layout.train.prefix}${name}/`,
      reason: 'class folder has no usable images',
    })

  const newIndex = new Int32Array(classNames.length).fill(-1)
  let kept = 0
  for (let c = 0; c < classNames.length; c++) if (perClass[c] > 0) newIndex[c] = kept++
  const wide = usableClasses.length > 256
  const trainIndices: number[] = []
  const testIndices: number[] = []
  tasks.forEach((task, i) => (task.test ? testIndices : trainIndices).push(i))
  for (const i of testIndices) {
    if (newIndex[tasks[i].classIndex] < 0 && typeof results[i] !== 'string')
      skipped.push({ file: tasks[i].rel, reason: 'its class has no usable training images' })
  }
  let trainSplit = assemble(trainIndices, tasks, results, newIndex, wide)
  let testSplit: Split | undefined
  if (layout.test) {
    testSplit = assemble(testIndices, tasks, results, newIndex, wide)
  } else if ('fraction' in layout.split && layout.split.fraction > 0) {
    const held = stratifiedSplit(trainSplit, layout.split.fraction, TEST_SPLIT_SEED)
    trainSplit = held.train
    testSplit = held.validation
  }
  onProgress?.({ phase: 'done', done: tasks.length, total: tasks.length })
  const source: DatasetSource = {
    kind: 'folder',
    path: dir,
    test: 'folder' in layout.split ? layout.split : { fraction: layout.split.fraction },
  }
  return {
    name: basename(dir),
    labels: usableClasses,
    train: trainSplit,
    ...(testSplit && testSplit.count > 0 ? { test: testSplit } : {}),
    source,
    skipped,
    transposed: false,
  }
}
