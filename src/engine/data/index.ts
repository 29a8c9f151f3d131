// Public API of the engine's data layer.
export * from './types'
export * from './rng'
export * from './augment'
export { parseIdx, readIdxFile, encodeIdx, isGzip, MAX_IDX_BYTES, type IdxArray } from './idx'
export { loadIdxDirectory, loadIdxPair, transposeImages, type IdxLoadOptions } from './idxDataset'
export { loadBuiltinMnist, FASHION_MNIST_LABELS, MNIST_LABELS } from './mnistBuiltin'
export * from './split'
