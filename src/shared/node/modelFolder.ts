// Model folders on disk, without tfjs: what a complete InkLab model folder is, which folders a
// save may replace, and the repair of a save killed between its renames. The engine's model files
// and the services' run store both use these.
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'

import { ModelMetadataSchema } from '../schemas/model'
import { checkWritableFolder } from './files'

/** File names of a saved model folder. */
export const MODEL_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  metadata: 'metadata.json',
} as const

/** Files an operating system drops into folders on its own; they never make a folder "someone's". */
const OS_LITTER = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini', '.directory'])

/** A saved model could not be read or written; `file` is the full path of the offending file. */
export class ModelFileError extends Error {
  readonly file: string
  /** What is wrong with `file`, without its name. */
  readonly problem: string

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options)
    this.name = 'ModelFileError'
    this.file = file
    this.problem = problem
  }
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8')) as unknown
}

/** True when `folder` holds `metadata.json` written by InkLab (it matches the metadata schema). */
export async function isInkLabModelFolder(folder: string): Promise<boolean> {
  try {
    return ModelMetadataSchema.safeParse(await readJson(join(folder, MODEL_FILES.metadata))).success
  } catch {
    return false
  }
}

/** True when `folder` holds a model's three files and both JSON files parse as expected. */
export async function isCompleteModelFolder(folder: string): Promise<boolean> {
  try {
    const model = (await readJson(join(folder, MODEL_FILES.model))) as {
      modelTopology?: unknown
      weightsManifest?: { paths?: unknown }[]
    } | null
    if (typeof model?.modelTopology !== 'object' || !Array.isArray(model.weightsManifest))
      return false
    const paths = model.weightsManifest.flatMap((group) =>
      Array.isArray(group?.paths) ? (group.paths as unknown[]) : [],
    )
    if (paths.length !== 1 || paths[0] !== MODEL_FILES.weights) return false
    if (!(await isInkLabModelFolder(folder))) return false
    return (await stat(join(folder, MODEL_FILES.weights))).isFile()
  } catch {
    return false
  }
}

/**
 * Checks, before any work, that saving a model to `dir` would replace nothing but an InkLab model
 * and can succeed: `dir` must be missing, empty (operating-system litter such as `.DS_Store`
 * aside), or a folder InkLab wrote (its `metadata.json` says so), and the place must be writable.
 * A user's folder, a file, or a TF.js model from elsewhere is refused with a ModelFileError naming
 * it, so a mistyped output can never delete someone's data.
 */
export async function checkModelDestination(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null)
  if (info && !info.isDirectory()) {
    throw new ModelFileError(dir, 'exists and is a file, not a model folder; choose another output')
  }
  if (info) {
    const names = (await readdir(dir)).filter((name) => !OS_LITTER.has(name))
    const modelFiles = new Set<string>(Object.values(MODEL_FILES))
    const others = names.filter((name) => !modelFiles.has(name))
    if (others.length > 0) {
      const shown = others.slice(0, 3).join(', ') + (others.length > 3 ? ', ...' : '')
      throw new ModelFileError(
        dir,
        `is not a model folder (it holds ${shown}); refusing to replace it: choose an empty or new folder`,
      )
    }
    if (names.length > 0 && !(await isInkLabModelFolder(dir))) {
      throw new ModelFileError(
        dir,
        `holds a model InkLab did not write (no InkLab ${MODEL_FILES.metadata}); refusing to replace it: choose an empty or new folder`,
      )
    }
  }
  await checkWritableFolder(dir)
}

/**
 * The sibling folders a save of `dir` leaves when it is interrupted between its renames:
 * `<dir>.tmp-*` (the new model) and `<dir>.old-*` (the previous one), newest first; folders in
 * `inUse` (saves in progress) are left out.
 */
export async function modelFolderLeftovers(
  dir: string,
  inUse: ReadonlySet<string> = new Set(),
): Promise<{ tmp: string[]; old: string[] }> {
  const parent = dirname(dir)
  const base = basename(dir)
  let names: string[]
  try {
    names = await readdir(parent)
  } catch {
    return { tmp: [], old: [] }
  }
  const found: { path: string; kind: 'tmp' | 'old'; mtime: number }[] = []
  for (const name of names) {
    const kind = name.startsWith(`${base}.tmp-`)
      ? 'tmp'
      : name.startsWith(`${base}.old-`)
        ? 'old'
        : null
    if (!kind) continue
    const path = join(parent, name)
    if (inUse.has(resolve(path))) continue
    const info = await stat(path).catch(() => null)
    if (info?.isDirectory()) found.push({ path, kind, mtime: info.mtimeMs })
  }
  found.sort((a, b) => b.mtime - a.mtime)
  const of = (kind: 'tmp' | 'old'): string[] =>
    found.filter((f) => f.kind === kind).map((f) => f.path)
  return { tmp: of('tmp'), old: of('old') }
}

/**
 * Puts back a model folder that a save interrupted between its two renames left missing: the
 * newest complete `<dir>.tmp-*` (the model being published), else the newest complete
 * `<dir>.old-*` (the one it replaced). Does nothing when `dir` exists.
 */
export async function recoverModelFolder(
  dir: string,
  inUse: ReadonlySet<string> = new Set(),
): Promise<void> {
  if ((await stat(dir).catch(() => null)) !== null) return
  const { tmp, old } = await modelFolderLeftovers(dir, inUse)
  for (const candidate of [...tmp, ...old]) {
    if (!(await isCompleteModelFolder(candidate))) continue
    try {
      await rename(candidate, dir)
      return
    } catch {
      if ((await stat(dir).catch(() => null)) !== null) return
    }
  }
}

/** Removes the `<dir>.tmp-*` and `<dir>.old-*` folders interrupted saves left behind. */
export async function removeModelLeftovers(
  dir: string,
  inUse: ReadonlySet<string> = new Set(),
): Promise<void> {
  const { tmp, old } = await modelFolderLeftovers(dir, inUse)
  await Promise.all([...tmp, ...old].map((path) => rm(path, { recursive: true, force: true })))
}

/**
 * Repairs a model folder after a killed save and clears what that save left beside it. Only safe
 * while nothing else is saving into `dir` (at start-up, or before a command's first save).
 */
export async function tidyModelFolder(dir: string): Promise<void> {
  await recoverModelFolder(dir)
  await removeModelLeftovers(dir)
}
