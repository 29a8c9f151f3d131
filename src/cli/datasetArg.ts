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
import type { ImportProgress } from '@shared/schemas'

import { UsageError } from './errors'

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

/**
 * The preset `--dataset` starts with when `--preset` is not given: `robust` for a folder with one
 * subfolder per class (a person's own images), `classic` for MNIST and IDX files.
 */
export function defaultPresetForArg(arg: string): BuiltinPresetName {
  if (arg === 'mnist' || arg === 'fashion-mnist') return defaultPresetFor({ kind: 'builtin' })
  const dir = resolve(arg)
  const folder = existsSync(dir) && statSync(dir).isDirectory() && !looksLikeIdxDirectory(dir)
  return defaultPresetFor({ kind: folder ? 'folder' : 'idx' })
}

/**
 * Resolves the `--dataset` argument: `mnist` (built in), `fashion-mnist` (IDX files in a known
 * folder), a folder of IDX files, or a folder with one subfolder per class.
 */
export async function loadDatasetArg(
  arg: string,
  onProgress?: (p: ImportProgress) => void,
  signal?: AbortSignal,
): Promise<Dataset> {
  if (arg === 'mnist') return loadBuiltinMnist()
  if (arg === 'fashion-mnist') {
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
    const fashion = /fashion/i.test(dir)
    return loadIdxDirectory(dir, fashion ? { labelNames: [...FASHION_MNIST_LABELS] } : undefined)
  }
  return importFolder(dir, { onProgress, signal })
}
