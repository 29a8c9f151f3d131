import type * as engine from '../index'

/**
 * The engine functions the host calls: `processEntry` passes the engine module itself, tests pass
 * fakes with the same signatures.
 */
export type EngineApi = Pick<
  typeof engine,
  | 'initBackend'
  | 'loadBuiltinMnist'
  | 'loadIdxDirectory'
  | 'importFolder'
  | 'decodeImageFile'
  | 'decodeImageBuffer'
  | 'preprocess'
  | 'saveDataset'
  | 'loadSavedDataset'
  | 'summarizeDataset'
  | 'namedSplit'
  | 'trainAndSave'
  | 'evaluateModel'
  | 'loadModel'
  | 'predictPixels'
  | 'exportModel'
  | 'readEdits'
  | 'applyEdits'
  | 'addDrawing'
  | 'undoLastDrawing'
  | 'appendCorrection'
  | 'rekeyEditsLog'
  | 'checkCorrection'
  | 'checkLabel'
>

/** Options of the engine's `trainAndSave`. */
export type TrainAndSaveOptions = engine.TrainAndSaveOptions

/** What the engine's `trainAndSave` returns. */
export type TrainAndSaveResult = engine.TrainAndSaveResult
