import { ModelMetadataSchema } from '@shared/schemas/model'
import { TrainConfigSchema } from '@shared/schemas/training'
import { describe, expect, it } from 'vitest'

import { createModelMetadata, describeSource } from '@engine/io/metadata'

const config = TrainConfigSchema.parse({ epochs: 1, batchSize: 8, learningRate: 0.001 })

function metadataOf(source: Parameters<typeof describeSource>[0]) {
  return createModelMetadata({
    dataset: { name: 'digits', labels: ['0', '1'], source, transposed: false, train: { count: 4 } },
    config,
    metrics: { epochs: 1, seconds: 1, samplesPerSecond: 4 },
    backend: 'cpu',
  })
}

describe('model metadata', () => {
  it('names the training folder, never its local path (it leaks when a model is shared)', () => {
    const meta = metadataOf({ kind: 'folder', path: '/home/ada/private/handwriting/digits' })
    expect(meta.dataset.source).toBe('folder:digits')
    expect(JSON.stringify(meta)).not.toContain('/home/ada')
  })

  it.each([
    [{ kind: 'idx', path: '/data/emnist/' } as const, 'idx:emnist'],
    [{ kind: 'folder', path: 'C:\\Users\\ada\\digits' } as const, 'folder:digits'],
    [{ kind: 'folder', path: '/' } as const, 'folder:'],
    [{ kind: 'builtin', name: 'mnist' } as const, 'builtin:mnist'],
  ])('describes %j as %s', (source, expected) => {
    expect(describeSource(source)).toBe(expected)
  })

  it('still reads metadata written with a full path', () => {
    const old = { ...metadataOf({ kind: 'builtin', name: 'mnist' }) }
    old.dataset = { ...old.dataset, source: 'folder:/home/ada/private/digits' }
    expect(ModelMetadataSchema.parse(JSON.parse(JSON.stringify(old))).dataset.source).toBe(
      'folder:/home/ada/private/digits',
    )
  })
})
