// Public API of the engine's data layer.
export * from './types'
export * from './rng'
export * from './augment'
export { parseIdx, readIdxFile, encodeIdx, isGzip, MAX_IDX_BYTES, type IdxArray } from './idx'
export { loadIdxDirectory, loadIdxPair, transposeImages, type IdxLoadOptions } from './idxDataset'
export {
  loadBuiltinMnist,
  builtinMnistDir,
  FASHION_MNIST_LABELS,
  MNIST_LABELS,
} from './mnistBuiltin'
export { decodeBmp, isBmp, MAX_IMAGE_PIXELS } from './bmp'
export { decodeImageBuffer, decodeImageFile, grayFromRgba, sniffImageFormat } from './imageDecode'
export { preprocess, FIT_BOX, MASS_CENTRE, type Preprocessed } from './preprocess'
export {
  importFolder,
  findImageFiles,
  IMAGE_EXTENSIONS,
  DEFAULT_IMPORT_CONCURRENCY,
  type ImportFolderOptions,
  type ImageFileListing,
} from './folderImport'
export * from './split'
export { sourcePath, TEST_FOLDER_PREFIX } from './sources'
export {
  saveDataset,
  loadSavedDataset,
  summarizeDataset,
  DATASET_JSON,
  type SaveDatasetOptions,
} from './datasetStore'
export {
  addDrawing,
  appendCorrection,
  appendEdits,
  applyEdits,
  checkCorrection,
  checkLabel,
  readEdits,
  rekeyEdits,
  rekeyEditsLog,
  undoLastDrawing,
  type EditOp,
  type EditsLog,
  type NewDrawing,
} from './datasetEdits'
