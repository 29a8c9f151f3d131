import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

import { checkWritableFolder, exists, makeDirs, toFileSystemError } from '@shared/node/files'
import type { EvaluationReport } from '@shared/schemas/evaluation'

import { slugify } from './fsUtil'
import {
  accuracyChartSvg,
  confusionCsv,
  historyCsv,
  lossChartSvg,
  perClassCsv,
  reportHtml,
} from './report'
import type { StoredRun } from './runStore'

/** Writes one file of an export; injectable so a test can fill the disk half-way. */
export type ExportWriter = (path: string, data: string) => Promise<void>

/** What an export holds. */
export interface ExportInput {
  run: StoredRun
  /** The run's model folder, if it has one. */
  modelDir: string | null
  evaluation: EvaluationReport | null
}

/** Files under `dir`, relative to `base`, sorted. */
async function listFiles(dir: string, base: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)))
    else out.push(relative(base, full))
  }
  return out.sort()
}

/** Copies a folder's regular files and subfolders (nothing else: no FIFO can stall it). */
async function copyFolder(from: string, to: string): Promise<void> {
  await mkdir(to)
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.isDirectory()) await copyFolder(join(from, entry.name), join(to, entry.name))
    else if (entry.isFile()) await copyFile(join(from, entry.name), join(to, entry.name))
  }
}

/** The `metrics.json` of an export. */
function metricsJson({ run, evaluation }: ExportInput): unknown {
  return {
    run: {
      id: run.id,
      name: run.name,
      state: run.state,
      message: run.message,
      createdAt: run.createdAt,
      finishedAt: run.finishedAt,
    },
    dataset: { id: run.datasetId, name: run.datasetName },
    config: run.config,
    metrics: run.metrics ?? {},
    backend: run.backend ?? null,
    evaluation: evaluation
      ? {
          split: evaluation.split ?? 'test',
          count: evaluation.count,
          accuracy: evaluation.accuracy,
          loss: evaluation.loss,
          macroF1: evaluation.macroF1,
          perClass: evaluation.perClass,
        }
      : null,
  }
}

/**
 * Exports a run into a new folder under `destination`: its model, and a report (charts as SVG,
 * metrics as CSV, JSON and HTML). Everything is written into a hidden temporary folder that is
 * renamed into place at the end, so a failure (a full disk, say) leaves nothing half-written.
 * Returns the folder and the files in it.
 */
export async function exportRun(
  input: ExportInput,
  destination: string,
  write: ExportWriter = writeFile,
): Promise<{ path: string; files: string[] }> {
  const { run, modelDir, evaluation } = input
  await makeDirs(destination)
  await checkWritableFolder(destination)
  const base = `inklab-${slugify(run.name, 'run')}-${run.id}`
  let target = join(destination, base)
  for (let n = 2; await exists(target); n++) target = join(destination, `${base}-${n}`)
  const staging = join(destination, `.${base}.tmp-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(staging)
    if (modelDir) await copyFolder(modelDir, join(staging, 'model'))
    const report = join(staging, 'report')
    await mkdir(report)
    const loss = lossChartSvg(run.history)
    const accuracy = accuracyChartSvg(run.history)
    const files: [string, string][] = [
      ['metrics.json', `${JSON.stringify(metricsJson(input), null, 2)}\n`],
      ['history.csv', historyCsv(run.history)],
      ['loss.svg', loss],
      ['accuracy.svg', accuracy],
      ...(evaluation
        ? ([
            ['per-class.csv', perClassCsv(evaluation)],
            ['confusion-matrix.csv', confusionCsv(evaluation)],
          ] as [string, string][])
        : []),
      ['report.html', reportHtml(run, evaluation, { loss, accuracy })],
    ]
    for (const [name, data] of files) await write(join(report, name), data)
    await rename(staging, target)
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined)
    throw toFileSystemError(error)
  }
  return { path: target, files: await listFiles(target, target) }
}
