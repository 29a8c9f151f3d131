import type { BackendName } from '@shared/schemas/backend'
import type { DatasetSource } from '@shared/schemas/dataset'
import { publicDatasetSource, type ModelMetadata, type ModelMetrics } from '@shared/schemas/model'
import type { TrainConfig } from '@shared/schemas/training'

import type { Dataset } from '../data/types'
import { architectureOf } from '../model/config'

/** Version written into metadata when the caller does not give one. */
export const UNKNOWN_VERSION = '0.0.0-unknown'

/** What `createModelMetadata` needs beyond the dataset and the config. */
export interface ModelMetadataInput {
  dataset: Pick<Dataset, 'name' | 'labels' | 'source' | 'transposed'> & {
    train: { count: number }
    test?: { count: number }
  }
  config: TrainConfig
  metrics: ModelMetrics
  /** How many networks the saved model averages (default 1; see combineModels). */
  members?: number
  backend: BackendName
  name?: string
  inklabVersion?: string
  createdAt?: Date
}

/**
 * Where a dataset came from, as metadata stores it: "builtin:mnist", "folder:digits" (no path),
 * "drawn" (on the pad).
 */
export function describeSource(source: DatasetSource): string {
  if (source.kind === 'builtin') return `builtin:${source.name}`
  if (source.kind === 'drawn') return 'drawn'
  return publicDatasetSource(`${source.kind}:${source.path}`)
}

/** Builds the `metadata.json` content of a model trained on `dataset` with `config`. */
export function createModelMetadata(input: ModelMetadataInput): ModelMetadata {
  const { dataset, config } = input
  return {
    format: 'inklab-model',
    formatVersion: 1,
    name: input.name ?? `${dataset.name} (${config.preset})`,
    labels: [...dataset.labels],
    preprocessing: {
      size: 28,
      fitBox: 20,
      centerBy: 'mass',
      inkPolarity: 'light-on-dark',
      scale: 'divide-255',
      transposed: dataset.transposed,
    },
    dataset: {
      name: dataset.name,
      source: describeSource(dataset.source),
      trainSize: dataset.train.count,
      testSize: dataset.test?.count ?? 0,
    },
    preset: config.preset,
    architecture: architectureOf(config),
    ...(input.members !== undefined && input.members > 1 ? { members: input.members } : {}),
    metrics: input.metrics,
    backend: input.backend,
    createdAt: (input.createdAt ?? new Date()).toISOString(),
    inklabVersion: input.inklabVersion ?? UNKNOWN_VERSION,
  }
}
