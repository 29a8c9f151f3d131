import { existsSync, readdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

import {
  DatasetError,
  FASHION_MNIST_LABELS,
  importFolder,
  loadBuiltinMnist,
  loadIdxDirectory,
  type Dataset,
} from '@engine/index'
import { defaultPresetFor, type BuiltinPresetName } from '@shared/presets'
import { IMPORT_LIMITS, type ImportProgress, type TestSplit } from '@shared/schemas'

import { numberOption } from './args'
import { UsageError } from './errors'

/** The options of `train` and `eval` that choose a folder's held-out test split. */
export const TEST_SPLIT_OPTIONS = {
  'test-split': { type: 'string' },
  'test-dir': { type: 'string' },
} as const

/** Help text of those options. */
export const TEST_SPLIT_HELP =
  '[--test-split F | --test-dir DIR]   (image folders: held-out test share, default 0.15, or test images)'

/** The test split `--test-split` / `--test-dir` ask for; undefined for the default. */
export function testSplitOption(values: {
  'test-split'?: string
  'test-dir'?: string
}): TestSplit | undefined {
  if (values['test-split'] !== undefined && values['test-dir'] !== undefined) {
    throw new UsageError('--test-split and --test-dir cannot be used together')
  }
  if (values['test-dir'] !== undefined) return { folder: resolve(values['test-dir']) }
  const fraction = numberOption('test-split', values['test-split'], IMPORT_LIMITS.testSplit)
  return fraction === undefined ? undefined : { fraction }
}

/** Where `--dataset fashion-mnist` looks for the four official IDX files. */
export function fashionMnistDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = []
  if (env.INKLAB_DATASETS) dirs.push(join(env.INKLAB_DATASETS, 'fashion-mnist'))
  dirs.push(join(homedir(), '.inklab', 'datasets', 'fashion-mnist'))
  return dirs
}

const IDX_NAME = /idx[13]-ubyte|\.idx[13]|-ubyte(\.gz)?$/i

/** True when `dir` holds IDX files rather than one subfolder per class. */
export function looksLikeIdxDirectory(dir: string): boolean {
  return readdirSync(dir).some((name) => IDX_NAME.test(name))
}

/** How `loadDatasetArg` reads a dataset. */
export interface DatasetArgOptions {
  onProgress?: (p: ImportProgress) => void
  signal?: AbortSignal
  /** Image folders: the held-out test split (default: as `importFolder` decides). */
  test?: TestSplit
}

/**
 * The preset `--dataset` starts with when `--preset` is not given: `robust` for a folder with one
 * subfolder per class (a person's own images), `fast` for MNIST and IDX files (`defaultPresetFor`).
 */
export function defaultPresetForArg(arg: string): BuiltinPresetName {
  if (arg === 'mnist' || arg === 'fashion-mnist') return defaultPresetFor({ kind: 'builtin' })
  const dir = resolve(arg)
  const folder = existsSync(dir) && statSync(dir).isDirectory() && !looksLikeIdxDirectory(dir)
  return defaultPresetFor({ kind: folder ? 'folder' : 'idx' })
}

/**
 * Resolves the `--dataset` argument: `mnist` (built in), `fashion-mnist` (IDX files in a known
 * folder), a folder of IDX files, or a folder with one subfolder per class (with a held-out
 * test split, the same images the app holds out).
 */
export async function loadDatasetArg(
  arg: string,
  options: DatasetArgOptions = {},
): Promise<Dataset> {
  const { onProgress, signal, test } = options
  const folderOnly = (): void => {
    if (test) throw new UsageError('--test-split and --test-dir apply to image folders only')
  }
  if (arg === 'mnist') {
    folderOnly()
    return loadBuiltinMnist()
  }
  if (arg === 'fashion-mnist') {
    folderOnly()
    const dir = fashionMnistDirs().find((d) => existsSync(d))
    if (!dir) {
      throw new UsageError(
        `Fashion-MNIST is not built in: put its four IDX files (train-images-idx3-ubyte.gz, ...) in ` +
          `${fashionMnistDirs().join(' or ')}, or pass --dataset <folder>`,
      )
    }
    return loadIdxDirectory(dir, { labelNames: [...FASHION_MNIST_LABELS], name: 'Fashion-MNIST' })
  }
  const dir = resolve(arg)
  if (!existsSync(dir)) {
    throw new DatasetError(
      `no such dataset: not "mnist", "fashion-mnist" or an existing folder`,
      dir,
    )
  }
  if (!statSync(dir).isDirectory()) {
    throw new DatasetError(
      'a dataset must be a folder (of IDX files, or with one subfolder per class)',
      dir,
    )
  }
  if (looksLikeIdxDirectory(dir)) {
    folderOnly()
    const fashion = /fashion/i.test(dir)
    return loadIdxDirectory(dir, fashion ? { labelNames: [...FASHION_MNIST_LABELS] } : undefined)
  }
  return importFolder(dir, { onProgress, signal, ...(test ? { test } : {}) })
}
