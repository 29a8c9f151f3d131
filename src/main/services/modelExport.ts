import { cp, rm } from 'node:fs/promises'
import { join } from 'node:path'

import { EXPORT_FORMATS, type ExportFormat } from '@shared/schemas/export'
import { ModelMetadataSchema, publicDatasetSource } from '@shared/schemas/model'

import type { EngineClient } from './engineClient'
import { readJsonOrNull, writeJsonAtomic } from './fsUtil'

/**
 * Writes a run's model into a fresh export folder `target` in each of `formats`: TF.js as the
 * `model/` folder (a copy of InkLab's own), Keras as `model.h5`, ONNX as `model.onnx` (converted
 * by the engine host). When one fails, `target` is removed, so no half-made export is left.
 */
export async function exportModelFormats(
  engine: Pick<EngineClient, 'call'>,
  modelDir: string,
  target: string,
  formats: readonly ExportFormat[],
): Promise<void> {
  try {
    for (const format of new Set(formats)) {
      const out = join(target, EXPORT_FORMATS[format].defaultName)
      if (format === 'tfjs') {
        await cp(modelDir, out, { recursive: true })
        await withoutLocalPaths(join(out, 'metadata.json'))
      } else await engine.call('model.export', { modelDir, format, out })
    }
  } catch (error) {
    await rm(target, { recursive: true, force: true })
    throw error
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
