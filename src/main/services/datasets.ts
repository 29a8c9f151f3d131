import { stat } from 'node:fs/promises'
import { basename, isAbsolute } from 'node:path'

import type { DatasetRef } from '@engine/host/protocol'
import type { DatasetSummary, SampleImage } from '@shared/schemas/dataset'

import type { DatasetStore } from './datasetStore'
import type { EngineClient } from './engineClient'
import { UserError } from './errors'
import type { EventHub } from './events'
import { newId, slugify } from './fsUtil'
import { BUILTIN_DATASET_ID } from './runStore'

/** The built-in MNIST as the engine host finds it. */
const BUILTIN_REF: DatasetRef = { id: BUILTIN_DATASET_ID, kind: 'builtin', name: 'mnist' }

/** A dataset as a run uses it: how the host finds it, its name and its classes. */
export interface DatasetInfo {
  ref: DatasetRef
  name: string
  labels: string[]
  /** Null for the built-in MNIST before it was loaded once. */
  summary: DatasetSummary | null
}

/** What `DatasetService` works with. */
export interface DatasetServiceDeps {
  store: DatasetStore
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
        ref: BUILTIN_REF,
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
    const summary = await this.deps.engine.call('dataset.loadBuiltin', { id: BUILTIN_DATASET_ID })
    const stored = { ...summary, id: BUILTIN_DATASET_ID }
    await this.deps.store.save(stored)
    return stored
  }

  /** Imports a folder (IDX files, or one subfolder per class) into the data folder. */
  async import(
    method: 'dataset.openIdx' | 'dataset.importFolder',
    input: { path: string; name?: string },
  ): Promise<DatasetSummary> {
    if (this.importing) throw new UserError('another import is in progress; cancel it first')
    const controller = new AbortController()
    this.importing = controller
    try {
      if (!isAbsolute(input.path)) throw new UserError(`"${input.path}" is not an absolute path`)
      const info = await stat(input.path).catch(() => null)
      if (!info?.isDirectory()) throw new UserError(`"${input.path}" is not a folder`)
      const id = newId(`${slugify(input.name ?? basename(input.path), 'dataset')}-`)
      try {
        const summary = await this.deps.engine.call(
          method,
          {
            id,
            path: input.path,
            ...(input.name ? { name: input.name } : {}),
            saveDir: this.deps.store.dataDir(id),
          },
          {
            signal: controller.signal,
            onProgress: (progress) => this.deps.events.emit('dataset.progress', progress),
          },
        )
        await this.deps.store.save({ ...summary, id })
        return { ...summary, id }
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
    if (this.deps.engine.started) {
      await this.deps.engine.call('dataset.forget', { id: summary.id }).catch(() => undefined)
    }
    return { ok: true }
  }
}
