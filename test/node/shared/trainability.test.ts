import { describe, expect, it } from 'vitest'

import { stratifiedSplit } from '@engine/data/split'
import { minSamplesPerClass, shortClasses, trainingProblem } from '@shared/trainability'

describe('trainability of small datasets', () => {
  it('asks each class for enough samples that the seeded split holds one out', () => {
    for (const fraction of [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 0.9]) {
      const min = minSamplesPerClass(fraction)
      // Exactly the minimum: one class of `min` samples gives the validation split one sample,
      // and keeps at least one to train on; one fewer gives it none.
      const split = (n: number) =>
        stratifiedSplit(
          { images: new Uint8Array(n * 784), labels: new Uint8Array(n), count: n },
          fraction,
          1,
        )
      expect(split(min).validation.count, `${fraction}: ${min}`).toBeGreaterThanOrEqual(1)
      expect(split(min).train.count, `${fraction}: ${min}`).toBeGreaterThanOrEqual(1)
      if (min > 2) expect(split(min - 1).validation.count, `${fraction}: ${min - 1}`).toBe(0)
    }
    expect(minSamplesPerClass(0)).toBe(1)
  })

  it('names the classes that are short, in one sentence a person can act on', () => {
    const dataset = { name: 'Mine', labels: ['a', 'b', 'c'], trainCounts: [5, 2, 0] }
    expect(shortClasses(dataset, 0.2)).toEqual([
      { label: 'b', count: 2 },
      { label: 'c', count: 0 },
    ])
    expect(trainingProblem(dataset, 0.2)).toBe(
      '“Mine” is too small to train: “b” has 2 samples, “c” has 0 samples; with a 20% validation ' +
        'split each class needs at least 3 (one is held out to check the model); add samples, ' +
        'or lower the validation split',
    )
    expect(trainingProblem({ ...dataset, trainCounts: [1, 1, 1] }, 0)).toBeNull()
    expect(trainingProblem({ name: 'New', labels: [], trainCounts: [] }, 0.1)).toMatch(
      /has no classes; a model needs at least two/,
    )
    expect(trainingProblem({ name: 'One', labels: ['a'], trainCounts: [9] }, 0.1)).toMatch(
      /has one class \(“a”\)/,
    )
    expect(trainingProblem({ ...dataset, trainCounts: [3, 3, 3] }, 0.2)).toBeNull()
  })
})
