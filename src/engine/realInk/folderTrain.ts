import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import type { TrainProgress } from '@shared/schemas/training'

import { importFolder } from '../data/folderImport'
import type { Dataset } from '../data/types'
import { resolveTrainConfig, type TrainConfigOverrides } from '../model/config'
import { trainModel, type TrainResult } from '../train/trainer'
import { renderScan, sampleRng } from './render'
import type { PenSample } from './trajectories'

/** Scans written at once. */
const WRITE_CONCURRENCY = 4
/** Salt of the folder's renderings, so they differ from the benchmark's scans of the same sample. */
const FOLDER_SALT = 3

/**
 * Writes each sample as a scanned image file into `dir/<label>/`, the folder layout a person
 * imports (one subfolder per class). Deterministic for a seed.
 */
export async function writeInkFolder(
  samples: readonly PenSample[],
  dir: string,
  seed: number,
): Promise<void> {
  for (const label of new Set(samples.map((s) => s.label))) {
    await mkdir(join(dir, label), { recursive: true })
  }
  for (let start = 0; start < samples.length; start += WRITE_CONCURRENCY) {
    await Promise.all(
      samples.slice(start, start + WRITE_CONCURRENCY).map(async (sample) => {
        const scan = await renderScan(sample, sampleRng(seed, sample.id, FOLDER_SALT))
        const name = `${sample.writer.replace(/[^\w-]/g, '_')}-${sample.id}.${scan.format === 'jpeg' ? 'jpg' : 'png'}`
        await writeFile(join(dir, sample.label, name), scan.bytes)
      }),
    )
  }
}

/**
 * What a person gets from a folder of these writers' scans: writes the folder, imports it as the
 * app does and trains `preset` on it with the preset's own settings (plus `overrides`).
 */
export async function trainOnInkFolder(opts: {
  samples: readonly PenSample[]
  dir: string
  overrides: TrainConfigOverrides
  seed: number
  onProgress?: (progress: TrainProgress) => void
  log?: (line: string) => void
  signal?: AbortSignal
}): Promise<{ dataset: Dataset; result: TrainResult }> {
  await writeInkFolder(opts.samples, opts.dir, opts.seed)
  const dataset = await importFolder(opts.dir, { signal: opts.signal })
  const config = resolveTrainConfig({ seed: opts.seed, ...opts.overrides })
  const result = await trainModel({
    dataset,
    config,
    onProgress: opts.onProgress,
    log: opts.log,
    signal: opts.signal,
  })
  return { dataset, result }
}
