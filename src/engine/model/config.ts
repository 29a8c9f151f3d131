// Resolving a run's settings is pure and shared with the services: see src/shared/trainConfig.ts.
export {
  architectureOf,
  CUSTOM_DEFAULTS_FROM,
  presetDefaults,
  resolveTrainConfig,
  type TrainConfigOverrides,
} from '@shared/trainConfig'
