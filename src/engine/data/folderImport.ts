import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'

import { errorMessage } from '@shared/errors'
import type { ImportProgress, SkippedFile } from '@shared/schemas/dataset'

import { readInputFile } from './files'
import { decodeImageBuffer, MAX_IMAGE_FILE_BYTES } from './imageDecode'
import { preprocess } from './preprocess'
import { DatasetError, IMAGE_PIXELS, type Dataset } from './types'

/** File extensions (lower case) that folder import decodes. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff']
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
}

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
async function scanClass(dir: string, rel: string, classIndex: number, scan: Scan): Promise<void> {
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
      await scanClass(path, entryRel, classIndex, scan)
    } else if (kind === 'linked-folder') {
      skipped.push({ file: `${entryRel}/`, reason: LINKED_FOLDER_REASON })
    } else {
      const ext = extname(entry.name).toLowerCase()
      if (!IMAGE_EXTENSIONS.includes(ext)) {
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
        tasks.push({ path, rel: entryRel, classIndex })
      }
    }
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

/**
 * Imports a folder with one subfolder per class (the folder name is the label, sorted naturally). Class
 * folders are searched recursively (symbolic links to folders are skipped, not followed); PNG, JPEG, BMP, GIF, WebP and TIFF files are decoded and
 * preprocessed; every file that cannot be used is listed in `skipped` with the reason. The dataset has a
 * training split only. Cancelling through `signal` rejects promptly with an AbortError.
 */
export async function importFolder(dir: string, opts: ImportFolderOptions = {}): Promise<Dataset> {
  const { onProgress, signal } = opts
  const concurrency = Math.min(
    16,
    Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_IMPORT_CONCURRENCY)),
  )
  signal?.throwIfAborted()

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

  // Scanning: class folders at the top level, files directly in the root are not labelled.
  const skipped: SkippedFile[] = []
  const classNames: string[] = []
  const classDirs: string[] = []
  const compare = naturalComparator()
  for (const entry of await sortedEntries(dir, compare)) {
    const path = join(dir, entry.name)
    const kind = await entryKind(entry, path)
    if (kind === 'folder') {
      classNames.push(entry.name)
      classDirs.push(path)
    } else if (kind === 'linked-folder') {
      skipped.push({ file: `${entry.name}/`, reason: LINKED_FOLDER_REASON })
    } else {
      skipped.push({
        file: entry.name,
        reason: 'not inside a class folder (put each class in its own subfolder)',
      })
    }
  }
  if (classNames.length === 0) {
    throw new DatasetError(
      'no class folders found: put the images of each class in a subfolder named after the class',
      dir,
    )
  }
  const tasks: ImageTask[] = []
  for (let c = 0; c < classNames.length; c++) {
    onProgress?.({ phase: 'scanning', done: c, total: classNames.length, file: classNames[c] })
    await scanClass(classDirs[c], classNames[c], c, { compare, tasks, skipped, signal })
  }
  onProgress?.({ phase: 'scanning', done: classNames.length, total: classNames.length })

  // Decoding, `concurrency` files at a time; results keep the scan order.
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

  // Assemble: classes without any usable image are dropped (and reported).
  const perClass = new Array<number>(classNames.length).fill(0)
  results.forEach((r, i) => {
    if (typeof r === 'string') skipped.push({ file: tasks[i].rel, reason: r })
    else perClass[tasks[i].classIndex]++
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
    skipped.push({ file: `${name}/`, reason: 'class folder has no usable images' })

  const newIndex = new Int32Array(classNames.length).fill(-1)
  let kept = 0
  for (let c = 0; c < classNames.length; c++) if (perClass[c] > 0) newIndex[c] = kept++
  const images = new Uint8Array(usable * IMAGE_PIXELS)
  const labels = usableClasses.length > 256 ? new Uint16Array(usable) : new Uint8Array(usable)
  let count = 0
  results.forEach((r, i) => {
    if (typeof r === 'string') return
    images.set(r, count * IMAGE_PIXELS)
    labels[count++] = newIndex[tasks[i].classIndex]
  })
  onProgress?.({ phase: 'done', done: tasks.length, total: tasks.length })
  return {
    name: basename(dir),
    labels: usableClasses,
    train: { images, labels, count },
    source: { kind: 'folder', path: dir },
    skipped,
    transposed: false,
  }
}
