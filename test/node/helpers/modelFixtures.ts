import type { ModelMetadata } from '@shared/schemas/model'

/** Valid metadata for a 10-class test model. */
export function testMetadata(overrides: Partial<ModelMetadata> = {}): ModelMetadata {
  return {
    format: 'inklab-model',
    formatVersion: 1,
    name: 'test model',
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    preprocessing: {
      size: 28,
      fitBox: 20,
      centerBy: 'mass',
      inkPolarity: 'light-on-dark',
      scale: 'divide-255',
      transposed: false,
    },
    dataset: { name: 'synthetic', source: 'test', trainSize: 0, testSize: 0 },
    preset: 'custom',
    metrics: { epochs: 0, seconds: 0, samplesPerSecond: 0 },
    backend: 'cpu',
    createdAt: new Date(0).toISOString(),
    inklabVersion: 'test',
    ...overrides,
  }
}

/** `count` deterministic pseudo-random 28x28 images. */
export function randomImages(count: number, seed = 1): Uint8Array[] {
  let state = seed
  return Array.from({ length: count }, () =>
    Uint8Array.from({ length: 784 }, () => {
      state = (state * 1103515245 + 12345) >>> 0
      return state >>> 24
    }),
  )
}
