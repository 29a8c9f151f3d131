// Native TensorFlow: provisioning libtensorflow from the official PyPI wheel, and the training step
// that runs as one TensorFlow graph.
export { GraphTrainStep, type GraphStepStats } from './graphStep'
export {
  describeProvenance,
  MANIFEST_FILE,
  PINNED_WHEEL,
  readManifest,
  type NativeManifest,
} from './manifest'
export {
  cacheDirectory,
  NativeSetupError,
  provisionNative,
  type ProvisionOptions,
  type ProvisionOutcome,
  type VerifyResult,
} from './provision'
export { isTensorFlowNoise } from '@shared/node/tfLog'
export { buildTrainGraph, UnsupportedLayerError, type TrainGraph } from './trainGraph'
export { verifyNativeTraining, type NativeCheck } from './verify'
