import { stat } from 'node:fs/promises'
import { basename, isAbsolute, resolve } from 'node:path'

import type { DatasetRef } from '@engine/host/protocol'
import { errorMessage } from '@shared/errors'
import { exists } from '@shared/node/files'
import type {
  DatasetSummary,
  SampleImage,
  TestSplit,
  UploadDescription,
} from '@shared/schemas/dataset'

import type { DatasetStore } from './datasetStore'
import type { EngineClient } from './engineClient'
import { UserError } from './errors'
import type { EventHub } from './events'
import { newId, slugify } from './fsUtil'
import { BUILTIN_DATASET_ID } from './runStore'
import type { UploadService } from './uploads'

/**
 * The folder `path` names, normalised (`/a/b/` and `/a/./b` are `/a/b`); refuses a path that is
 * not absolute or not a folder, saying which.
 */
async function requireFolder(path: string): Promise<string> {
  if (!isAbsolute(path)) throw new UserError(`"${path}" is not an absolute path`)
  const info = await stat(path).catch(() => null)
  if (!info?.isDirectory()) throw new UserError(`"${path}" is not a folder`)
  return resolve(path)
}

/** A dataset as a run uses it: how the host finds it, its name and its classes. */
export interface DatasetInfo {
  ref: DatasetRef & { edits: string }
  name: string
  labels: string[]
  /** Null for the built-in MNIST before it was loaded once. */
  summary: DatasetSummary | null
}

/** What `DatasetService` works with. */
export interface DatasetServiceDeps {
  store: DatasetStore
  uploads: UploadService
  engine: EngineClient
  events: EventHub
  /** True while a run trains on the dataset (it may not be deleted then). */
  inUse(datasetId: string): boolean
}

/**
 * Datasets: importing them (one at a time, cancellable), listing, sampling and deleting them. The
 * pixels live in the engine host; the summaries on disk.
 */
export class DatasetService {
  private importing: AbortController | null = null

  constructor(private readonly deps: DatasetServiceDeps) {}

  list(): Promise<DatasetSummary[]> {
    return this.deps.store.list()
  }

  /** A dataset by id as runs use it; throws NotFoundError when it is not there. */
  async describe(datasetId: string): Promise<DatasetInfo> {
    if (datasetId === BUILTIN_DATASET_ID) {
      const summary = await this.deps.store.get(BUILTIN_DATASET_ID).catch(() => null)
      return {
        ref: summary
          ? this.deps.store.ref(summary)
          : {
              id: BUILTIN_DATASET_ID,
              kind: 'builtin',
              name: 'mnist',
              edits: this.deps.store.editsFile(BUILTIN_DATASET_ID),
            },
        name: summary?.name ?? 'MNIST',
        labels: summary?.labels ?? [...'0123456789'],
        summary,
      }
    }
    const summary = await this.deps.store.get(datasetId)
    return {
      ref: this.deps.store.ref(summary),
      name: summary.name,
      labels: summary.labels,
      summary,
    }
  }

  async loadBuiltin(): Promise<DatasetSummary> {
    const summary = await this.deps.engine.call('dataset.loadBuiltin', {
      id: BUILTIN_DATASET_ID,
      edits: this.deps.store.editsFile(BUILTIN_DATASET_ID),
    })
    const stored = { ...summary, id: BUILTIN_DATASET_ID }
    await this.deps.store.save(stored)
    return stored
  }

  /**
   * The dataset already imported from folder `path` (the same IDX or image folder, or the same
   * upload), so the UI can offer to use it or refresh it instead of making a copy; null if none.
   */
  async find(
    input: { path: string } | { upload: UploadDescription },
  ): Promise<DatasetSummary | null> {
    const all = await this.deps.store.list()
    if ('upload' in input) {
      const { name } = input.upload
      return all.find((d) => d.source.kind === 'folder' && d.source.upload?.name === name) ?? null
    }
    if (!isAbsolute(input.path)) return null
    const path = resolve(input.path)
    return (
      all.find(
        (d) =>
          (d.source.kind === 'folder' && !d.source.upload && d.source.path === path) ||
          (d.source.kind === 'idx' && d.source.path === path),
      ) ?? null
    )
  }

  /**
   * Imports a folder uploaded from a browser through the folder import, then removes the
   * uploaded files (the dataset keeps its images and their names). The upload is gone either way.
   */
  async importUpload(input: {
    uploadId: string
    name?: string
    testFraction?: number
    replace?: string
  }): Promise<DatasetSummary> {
    try {
      const { dir, description } = await this.deps.uploads.finish(input.uploadId)
      return await this.import(
        'dataset.importFolder',
        {
          path: dir,
          name: input.name ?? description.name,
          ...(input.testFraction !== undefined ? { test: { fraction: input.testFraction } } : {}),
          ...(input.replace ? { replace: input.replace } : {}),
        },
        { name: description.name, fingerprint: description.fingerprint },
      )
    } finally {
      await this.deps.uploads.discard(input.uploadId)
    }
  }

  /** Renames a dataset (runs keep the name they were trained under). */
  async rename(datasetId: string, name: string): Promise<DatasetSummary> {
    if (datasetId === BUILTIN_DATASET_ID) throw new UserError('built-in MNIST cannot be renamed')
    const trimmed = name.trim()
    if (!trimmed) throw new UserError('a dataset needs a name')
    return this.deps.store.rename(datasetId, trimmed)
  }

  /**
   * Imports a folder (IDX files, or one subfolder per class) into the data folder; with
   * `replace`, in the place of that dataset (a refresh: its id, and the runs naming it, stay).
   */
  async import(
    method: 'dataset.openIdx' | 'dataset.importFolder',
    input: { path: string; name?: string; test?: TestSplit; replace?: string },
    upload?: { name: string; fingerprint: string },
  ): Promise<DatasetSummary> {
    if (this.importing) throw new UserError('another import is in progress; cancel it first')
    const controller = new AbortController()
    this.importing = controller
    try {
      const path = await requireFolder(input.path)
      const test =
        input.test && 'folder' in input.test
          ? { folder: await requireFolder(input.test.folder) }
          : input.test
      const replaced = input.replace ? await this.deps.store.get(input.replace) : null
      if (replaced && this.deps.inUse(replaced.id)) {
        throw new UserError(
          `a run is training on "${replaced.name}"; stop it before refreshing the dataset`,
        )
      }
      const name = input.name ?? replaced?.name
      const id = newId(`${slugify(name ?? basename(path), 'dataset')}-`)
      try {
        const summary = await this.deps.engine.call(
          method,
          {
            id,
            path,
            ...(name ? { name } : {}),
            ...(test ? { test } : {}),
            saveDir: this.deps.store.dataDir(id),
          },
          {
            signal: controller.signal,
            onProgress: (progress) => this.deps.events.emit('dataset.progress', progress),
          },
        )
        // An upload's files go once imported: the dataset says where it came from instead.
        const source =
          upload && summary.source.kind === 'folder'
            ? { ...summary.source, upload }
            : summary.source
        await this.deps.store.save({ ...summary, id, source })
        if (!replaced) return { ...summary, id, source }
        await this.rekeyEdits(replaced)
        const refreshed = await this.deps.store.replace(replaced.id, id)
        await this.forget(id)
        await this.forget(replaced.id)
        return await this.withEdits(refreshed)
      } catch (error) {
        await this.deps.store.remove(id).catch(() => undefined)
        throw error
      }
    } finally {
      if (this.importing === controller) this.importing = null
    }
  }

  /** Cancels the import in progress, if any. */
  cancelImport(): { cancelled: boolean } {
    if (!this.importing) return { cancelled: false }
    this.importing.abort()
    return { cancelled: true }
  }

  async samples(input: {
    datasetId: string
    split: 'train' | 'test'
    label?: number
    offset: number
    count: number
  }): Promise<SampleImage[]> {
    return this.deps.engine.call('dataset.samples', {
      dataset: (await this.describe(input.datasetId)).ref,
      split: input.split,
      ...(input.label !== undefined ? { label: input.label } : {}),
      offset: input.offset,
      count: input.count,
    })
  }

  async delete(datasetId: string): Promise<{ ok: boolean }> {
    const summary = await this.deps.store.get(datasetId)
    if (this.deps.inUse(datasetId)) {
      throw new UserError('a run is training on this dataset; stop it before deleting the dataset')
    }
    await this.deps.store.remove(summary.id)
    await this.forget(summary.id)
    return { ok: true }
  }

  /**
   * Before a refresh replaces `summary`'s stored copy: its edits log's corrections that name a
   * folder sample by position (logs of InkLab before file keys) are given the sample's file, while
   * the copy they were written against is still there. Should that fail, they are left out after
   * the refresh (the summary counts them as stale), never applied to another image.
   */
  private async rekeyEdits(summary: DatasetSummary): Promise<void> {
    const ref = this.deps.store.ref(summary)
    if (summary.source.kind !== 'folder' || !(await exists(ref.edits))) return
    try {
      await this.deps.engine.call('dataset.rekeyEdits', { dataset: ref })
    } catch (error) {
      console.warn(
        `InkLab: the corrections of "${summary.name}" could not be matched to their files before ` +
          `the refresh; those made by position will not apply: ${errorMessage(error)}`,
      )
    }
  }

  /**
   * `summary` with the counts its edits log gives (a refreshed folder keeps the drawings and
   * corrections made in InkLab), stored; as it is when the dataset has no log.
   */
  private async withEdits(summary: DatasetSummary): Promise<DatasetSummary> {
    const ref = this.deps.store.ref(summary)
    if (!(await exists(ref.edits))) return summary
    const counted = await this.deps.engine.call('dataset.summary', { dataset: ref })
    const updated = { ...counted, id: summary.id, name: summary.name, source: summary.source }
    await this.deps.store.update(updated)
    return updated
  }

  /** Drops a dataset from the engine host's cache (its files changed or went). */
  private async forget(id: string): Promise<void> {
    if (this.deps.engine.started) {
      await this.deps.engine.call('dataset.forget', { id }).catch(() => undefined)
    }
  }
}
