import { describe, expect, it } from 'vitest'

import { classCounts } from '@engine/data/split'
import { FASHION_MNIST_LABELS, loadBuiltinMnist } from '@engine/data/mnistBuiltin'

describe('loadBuiltinMnist', () => {
  it('loads the 60,000 + 10,000 official images with plausible content, quickly', async () => {
    const started = performance.now()
    const ds = await loadBuiltinMnist()
    const seconds = (performance.now() - started) / 1000
    expect(seconds).toBeLessThan(5)
    expect(ds.train.count).toBe(60000)
    expect(ds.train.images.length).toBe(60000 * 784)
    expect(ds.test?.count).toBe(10000)
    expect(ds.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(ds.source).toEqual({ kind: 'builtin', name: 'mnist' })
    // Well-known facts about the official files: the first labels and the class sizes.
    expect(Array.from(ds.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9])
    expect(Array.from(ds.test?.labels.subarray(0, 3) ?? [])).toEqual([7, 2, 1])
    expect(classCounts(ds.train, 10)).toEqual([
      5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ])
    // White ink on black: the corners of the first image are background.
    expect(ds.train.images[0]).toBe(0)
    expect(Math.max(...ds.train.images.subarray(0, 784))).toBe(255)
  })

  it('exports the Fashion-MNIST class names in label order', () => {
    expect(FASHION_MNIST_LABELS).toHaveLength(10)
    expect(FASHION_MNIST_LABELS[0]).toBe('T-shirt/top')
    expect(FASHION_MNIST_LABELS[9]).toBe('Ankle boot')
  })
})
