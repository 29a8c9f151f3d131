import type * as engine from '../index'

/** Options of the engine's `trainModel`. */
export type TrainOptions = engine.TrainOptions

/** What the engine's `trainModel` returns. */
export type TrainOutput = engine.TrainResult

/**
 * The engine functions the host calls: `processEntry` passes the real engine module, tests pass
 * fakes with the same signatures.
 */
export type EngineApi = Pick<
  typeof engine,
  | 'initBackend'
  | 'loadBuiltinMnist'
  | 'loadIdxDirectory'
  | 'importFolder'
  | 'decodeImageFile'
  | 'preprocess'
  | 'stratifiedSplit'
  | 'takeStratified'
  | 'saveDataset'
  | 'loadSavedDataset'
  | 'summarizeDataset'
  | 'resolveTrainConfig'
  | 'validateArchitecture'
  | 'trainModel'
  | 'evaluateModel'
  | 'saveModel'
  | 'loadModel'
  | 'predictPixels'
  | 'createModelMetadata'
  | 'exportModel'
>
