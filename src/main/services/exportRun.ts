import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

import {
  checkWritableFolder,
  exists,
  makeDirs,
  readJsonOrNull,
  toFileSystemError,
  writeJsonAtomic,
} from '@shared/node/files'
import type { EvaluationReport } from '@shared/schemas/evaluation'
import { EXPORT_FORMATS, type ExportFormat } from '@shared/schemas/export'
import { ModelMetadataSchema, publicDatasetSource } from '@shared/schemas/model'

import type { EngineClient } from './engineClient'
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
  /** The model's formats, each written once: TF.js `model/`, Keras `model.h5`, ONNX `model.onnx`. */
  formats: readonly ExportFormat[]
}

/** What an export needs beside its input. */
export interface ExportDeps {
  /** Converts the model to Keras and ONNX (the engine host's `model.export`). */
  engine: Pick<EngineClient, 'call'>
  /** Writes each report file (a test fills the disk half-way). */
  write?: ExportWriter
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

/** Shortens a copied `metadata.json`'s dataset source to the folder's name (older models kept the path). */
async function withoutLocalPaths(metadataFile: string): Promise<void> {
  const raw = await readJsonOrNull(metadataFile)
  const metadata = ModelMetadataSchema.safeParse(raw)
  if (!metadata.success) return
  const source = publicDatasetSource(metadata.data.dataset.source)
  if (source === metadata.data.dataset.source) return
  // Everything else stays as written (fields a newer version added included).
  const written = raw as { dataset: Record<string, unknown> }
  await writeJsonAtomic(metadataFile, { ...written, dataset: { ...written.dataset, source } })
}

/**
 * Writes the model folder `modelDir` into `target` in each of `formats`: TF.js as a copy of
 * InkLab's own folder (its metadata naming the training folder only), Keras and ONNX converted by
 * the engine host.
 */
async function writeModelFormats(
  engine: ExportDeps['engine'],
  modelDir: string,
  target: string,
  formats: readonly ExportFormat[],
): Promise<void> {
  for (const format of new Set(formats)) {
    const out = join(target, EXPORT_FORMATS[format].defaultName)
    if (format === 'tfjs') {
      await copyFolder(modelDir, out)
      await withoutLocalPaths(join(out, 'metadata.json'))
    } else await engine.call('model.export', { modelDir, format, out })
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
 * Exports a run into a new folder under `destination`: its model in each chosen format, and a
 * report (charts as SVG, metrics as CSV, JSON and HTML). Everything is written into a hidden
 * temporary folder that is renamed into place at the end, so a failure (a full disk, a format
 * that cannot be converted) leaves nothing half-written. Returns the folder and the files in it.
 */
export async function exportRun(
  input: ExportInput,
  destination: string,
  { engine, write = writeFile }: ExportDeps,
): Promise<{ path: string; files: string[] }> {
  const { run, modelDir, evaluation, formats } = input
  await makeDirs(destination)
  await checkWritableFolder(destination)
  const base = `inklab-${slugify(run.name, 'run')}-${run.id}`
  let target = join(destination, base)
  for (let n = 2; await exists(target); n++) target = join(destination, `${base}-${n}`)
  const staging = join(destination, `.${base}.tmp-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(staging)
    if (modelDir) await writeModelFormats(engine, modelDir, staging, formats)
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
