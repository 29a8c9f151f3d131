import type { RouteInput, RouteOutput } from '@shared/contract'
import type { Correction } from '@shared/schemas/collection'
import type { DatasetSummary } from '@shared/schemas/dataset'

import type { DatasetStore } from './datasetStore'
import type { DatasetService } from './datasets'
import type { EngineClient } from './engineClient'
import { newId, slugify } from './fsUtil'
import { KeyedQueue } from './fsUtil'

/** What `CollectionService` works with. */
export interface CollectionServiceDeps {
  store: DatasetStore
  datasets: DatasetService
  engine: EngineClient
}

/**
 * Datasets built by drawing, and corrections: drawings saved from the pad into a dataset (a
 * drawn one, or any other as a correction), the last one undone, samples relabelled or left out.
 * Every change goes into the dataset's edits log through the engine host (which preprocesses
 * drawings as it classifies them); the stored summary follows with the new counts. Changes to
 * one dataset run one at a time, in the order they were asked.
 */
export class CollectionService {
  private readonly queue = new KeyedQueue()

  constructor(private readonly deps: CollectionServiceDeps) {}

  /** A new, empty drawn dataset: its classes come with its drawings. */
  async create(name: string): Promise<DatasetSummary> {
    const summary: DatasetSummary = {
      id: newId(`${slugify(name, 'drawings')}-`),
      name: name.trim(),
      source: { kind: 'drawn' },
      labels: [],
      trainCounts: [],
      trainSize: 0,
      testSize: 0,
      skipped: [],
    }
    await this.deps.store.save(summary)
    return summary
  }

  /** Saves a drawing into a dataset under `label`. */
  add(input: RouteInput<'collection.add'>): Promise<RouteOutput<'collection.add'>> {
    return this.change(input.datasetId, (dataset) =>
      this.deps.engine.call('collection.add', {
        dataset,
        label: input.label,
        image: input.image,
        ink: input.ink,
      }),
    )
  }

  /** Removes the drawing saved last into a dataset. */
  undo(datasetId: string): Promise<RouteOutput<'collection.undo'>> {
    return this.change(datasetId, (dataset) =>
      this.deps.engine.call('collection.undo', { dataset }),
    )
  }

  /** Relabels, excludes or restores sample `key` (in InkLab's copy only). */
  correct(
    datasetId: string,
    key: string,
    correction: Correction,
  ): Promise<RouteOutput<'collection.correct'>> {
    return this.change(datasetId, (dataset) =>
      this.deps.engine.call('collection.correct', { dataset, key, correction }),
    )
  }

  /** One change of a dataset's log, after the ones asked before it; its summary is kept. */
  private change<T extends { summary: DatasetSummary }>(
    datasetId: string,
    apply: (dataset: Awaited<ReturnType<DatasetService['describe']>>['ref']) => Promise<T>,
  ): Promise<T> {
    return this.queue.run(datasetId, async () => {
      const info = await this.deps.datasets.describe(datasetId)
      const result = await apply(info.ref)
      // The stored source stays: the host knows the data, not where it was uploaded from.
      const source = info.summary?.source ?? result.summary.source
      const summary = { ...result.summary, id: datasetId, name: info.name, source }
      await this.deps.store.update(summary)
      return { ...result, summary }
    })
  }
}
