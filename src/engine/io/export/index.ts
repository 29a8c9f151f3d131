import { randomBytes } from 'node:crypto'
import { open, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'

import {
  checkWritableFolder,
  FileSystemError,
  fsProblem,
  makeDirs,
  renameRetrying,
} from '@shared/node/files'
import { EXPORT_FORMATS, type ExportFormat, type ModelExportResult } from '@shared/schemas/export'
import { publicDatasetSource, type ModelMetadata } from '@shared/schemas/model'
import type * as tf from '@tensorflow/tfjs'

import { loadModel, ModelFileError, saveModel } from '../modelFiles'
import { exportGraphOf } from './exportGraph'
import { writeKerasH5 } from './kerasH5'
import { encodeOnnxModel } from './onnxModel'

export { ExportError, exportGraphOf, exportMetadata } from './exportGraph'
export type { ExportGraph, ExportLayer, ExportLayerKind } from './exportGraph'
export { KERAS_FORMAT_VERSION, KERAS_METADATA_ATTRIBUTE, kerasModelConfig } from './kerasH5'
export { ONNX_INPUT, ONNX_METADATA_KEYS, ONNX_OPSET, ONNX_OUTPUT } from './onnxModel'
export { loadH5wasm } from './h5wasm'
export type { ModelExportResult } from '@shared/schemas/export'

/** The export's destination is unusable; the message starts with the path. */
export class ExportDestinationError extends Error {
  readonly path: string

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`)
    this.name = 'ExportDestinationError'
    this.path = path
  }
}

/** Options of `exportModel` and `writeModelExport`. */
export interface ExportOptions {
  format: ExportFormat
  /** File (Keras, ONNX) or folder (TF.js) to write; missing parent folders are created. */
  out: string
  /**
   * Called with the temporary file once it is written, before it replaces `out`: tests throw
   * here to check that a failed export leaves nothing behind.
   */
  beforePublish?: (tmpPath: string) => Promise<void>
}

/**
 * Creates `dir` (and its parents) and checks that a file can be made in it, naming the part of the
 * path that is a file, or the folder that refuses, when that fails.
 */
async function ensureWritableFolder(out: string, dir: string): Promise<void> {
  try {
    // makeDirs, not mkdir -p: Node 20's loops forever where folders cannot be made (/proc).
    await makeDirs(dir)
    await checkWritableFolder(dir)
  } catch (error) {
    if (!(error instanceof FileSystemError)) {
      throw new ExportDestinationError(out, `cannot create the folder ${dir}: ${fsProblem(error)}`)
    }
    // "/home/me/notes.txt is a file, not a folder"; "/proc: nothing can be written here".
    throw new ExportDestinationError(
      out,
      error.code === 'ENOTDIR' ? `${error.file} ${error.problem}` : error.message,
    )
  }
}

/**
 * Checks that `out` can receive an export in `format` before any work is done: the file name
 * ending fits the format (Keras opens only `.h5`/`.hdf5` as HDF5), a file export does not name a
 * folder or a device, and its parent folder exists or can be created, and takes new files.
 */
export async function checkExportDestination(out: string, format: ExportFormat): Promise<void> {
  const path = resolve(out)
  const { extensions, title } = EXPORT_FORMATS[format]
  const lower = path.toLowerCase()
  const info = await stat(path).catch(() => null)
  if (extensions.length === 0) {
    const fileLike = Object.values(EXPORT_FORMATS).flatMap((f) => f.extensions)
    if (fileLike.some((ext) => lower.endsWith(ext))) {
      throw new ExportDestinationError(path, `${title} export writes a folder; give a folder name`)
    }
    if (info && !info.isDirectory()) {
      throw new ExportDestinationError(path, `is a file; ${title} export writes a folder`)
    }
  } else {
    if (info?.isDirectory()) {
      throw new ExportDestinationError(
        path,
        `is a folder; give a file name such as ${join(path, EXPORT_FORMATS[format].defaultName)}`,
      )
    }
    if (info && !info.isFile()) {
      throw new ExportDestinationError(path, 'is not a regular file (a device or a pipe?)')
    }
    if (!extensions.some((ext) => lower.endsWith(ext))) {
      throw new ExportDestinationError(
        path,
        `the file name must end in ${extensions.join(' or ')} for ${title} export` +
          (format === 'keras' ? ' (keras.models.load_model picks the format by it)' : ''),
      )
    }
  }
  await ensureWritableFolder(path, dirname(path))
}

/** Temporary files of exports killed midway older than this are removed by the next export. */
const STALE_TEMP_MS = 10 * 60 * 1000

/** Removes `.<name>.tmp-*` siblings of `out` that an export killed midway left behind. */
async function removeStaleTemps(out: string): Promise<void> {
  const prefix = `.${basename(out)}.tmp-`
  const dir = dirname(out)
  for (const name of await readdir(dir).catch(() => [])) {
    if (!name.startsWith(prefix)) continue
    const info = await stat(join(dir, name)).catch(() => null)
    if (info?.isFile() && Date.now() - info.mtimeMs > STALE_TEMP_MS) {
      await rm(join(dir, name), { force: true })
    }
  }
}

/**
 * Writes one file through a temporary sibling that is flushed, then renamed over `out`, so a
 * failed or killed export never leaves a half-written file (nor damages one already there).
 */
async function publishFile(
  out: string,
  write: (tmp: string) => Promise<void>,
  beforePublish?: (tmp: string) => Promise<void>,
): Promise<number> {
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${randomBytes(6).toString('hex')}`)
  try {
    await (await open(tmp, 'wx')).close()
  } catch (error) {
    throw new ExportDestinationError(out, `cannot write in ${dirname(out)}: ${fsProblem(error)}`)
  }
  try {
    await write(tmp)
    const handle = await open(tmp, 'r+')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    const { size } = await stat(tmp)
    await beforePublish?.(tmp)
    await renameRetrying(tmp, out)
    await removeStaleTemps(out)
    return size
  } catch (error) {
    await rm(tmp, { force: true })
    if (error instanceof ExportDestinationError) throw error
    throw new ExportDestinationError(out, `could not write the export: ${fsProblem(error)}`)
  }
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}

/**
 * Exports a loaded model: Keras HDF5, ONNX, or a TF.js folder (InkLab's own format). Checks the
 * destination first; refuses unsupported layers with an ExportError naming the layer.
 */
export async function writeModelExport(
  model: tf.LayersModel,
  metadata: ModelMetadata,
  options: ExportOptions,
): Promise<ModelExportResult> {
  const started = performance.now()
  const { format } = options
  const out = resolve(options.out)
  await checkExportDestination(out, format)
  // A shared file names the training folder, never where it sat on this machine (older models kept it).
  const shared: ModelMetadata = {
    ...metadata,
    dataset: { ...metadata.dataset, source: publicDatasetSource(metadata.dataset.source) },
  }
  let bytes: number
  if (format === 'tfjs') {
    try {
      await saveModel(out, model, shared)
    } catch (error) {
      // "is not a model folder", "permission denied": problems of the destination the user chose.
      if (error instanceof ModelFileError && error.file === out) {
        throw new ExportDestinationError(out, error.problem)
      }
      // "/proc: nothing can be written here": the place the user chose.
      if (error instanceof FileSystemError) throw new ExportDestinationError(out, error.message)
      throw error
    }
    bytes = await folderBytes(out)
  } else {
    const graph = exportGraphOf(model, shared)
    const write =
      format === 'keras'
        ? (tmp: string) => writeKerasH5(graph, tmp)
        : (tmp: string) => writeFile(tmp, encodeOnnxModel(graph))
    bytes = await publishFile(out, write, options.beforePublish)
  }
  return { format, path: out, bytes, seconds: (performance.now() - started) / 1000 }
}

/** Exports the InkLab model folder `modelDir` (see `writeModelExport`). */
export async function exportModel(
  options: ExportOptions & { modelDir: string },
): Promise<ModelExportResult> {
  const started = performance.now()
  await checkExportDestination(options.out, options.format)
  const { model, metadata } = await loadModel(options.modelDir)
  try {
    const result = await writeModelExport(model, metadata, options)
    return { ...result, seconds: (performance.now() - started) / 1000 }
  } finally {
    model.dispose()
  }
}
