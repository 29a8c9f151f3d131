import { PRESETS } from '@shared/presets'
import type {
  DatasetSummary,
  EpochRecord,
  EvaluationReport,
  RunDetail,
  RunSummary,
  SampleImage,
} from '@shared/schemas'

/** 784 black bytes as base64 (a blank 28x28 sample). */
export const BLANK_PIXELS = btoa(String.fromCharCode(...new Uint8Array(784)))

export function makeDataset(overrides: Partial<DatasetSummary> = {}): DatasetSummary {
  return {
    id: 'ds-1',
    name: 'Letters',
    source: { kind: 'folder', path: '/data/letters' },
    labels: ['a', 'b', 'c'],
    trainCounts: [10, 12, 8],
    testCounts: [2, 3, 2],
    trainSize: 30,
    testSize: 7,
    skipped: [],
    ...overrides,
  }
}

export function makeSample(index: number, label: number): SampleImage {
  return { index, label, pixels: BLANK_PIXELS }
}

export function makeRun(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 'run-1',
    name: 'First run',
    state: 'completed',
    datasetId: 'ds-1',
    datasetName: 'MNIST',
    preset: 'classic',
    createdAt: '2025-01-02T10:00:00.000Z',
    finishedAt: '2025-01-02T10:05:00.000Z',
    hasModel: true,
    builtin: false,
    active: false,
    metrics: { testAccuracy: 0.991 },
    ...overrides,
  }
}

export function makeEpoch(epoch: number, overrides: Partial<EpochRecord> = {}): EpochRecord {
  return {
    kind: 'epoch',
    epoch,
    epochs: 3,
    step: (epoch + 1) * 100,
    loss: 0.5 / (epoch + 1),
    accuracy: 0.8 + epoch * 0.05,
    valLoss: 0.6 / (epoch + 1),
    valAccuracy: 0.78 + epoch * 0.05,
    learningRate: 0.001,
    samplesPerSecond: 1000,
    etaSeconds: 60 * (2 - epoch),
    elapsedSeconds: 60 * (epoch + 1),
    improved: true,
    ...overrides,
  }
}

export function makeRunDetail(overrides: Partial<RunDetail> = {}): RunDetail {
  return {
    ...makeRun({ state: 'running' }),
    config: {
      preset: 'classic',
      epochs: 3,
      batchSize: 128,
      learningRate: 0.001,
      lrSchedule: 'constant',
      validationSplit: 0.1,
      augmentation: { ...PRESETS.classic.defaults.augmentation },
      earlyStoppingPatience: 0,
      emaDecay: 0,
      members: 1,
      seed: 42,
      limit: 0,
      backend: 'auto',
    },
    history: [makeEpoch(0)],
    labels: ['0', '1'],
    ...overrides,
  }
}

/**
 * A 3-class report over 10 samples. actual = [0,0,0,1,1,1,2,2,2,2], predicted below:
 * sample 2 (actual 0) -> 1, sample 5 (actual 1) -> 2, sample 9 (actual 2) -> 0.
 */
export function makeReport(overrides: Partial<EvaluationReport> = {}): EvaluationReport {
  return {
    accuracy: 0.7,
    loss: 0.4321,
    count: 10,
    labels: ['cat', 'dog', 'eel'],
    confusion: [
      [2, 1, 0],
      [0, 2, 1],
      [1, 0, 3],
    ],
    perClass: [
      { label: 'cat', precision: 0.667, recall: 0.667, f1: 0.667, support: 3 },
      { label: 'dog', precision: 0.667, recall: 0.667, f1: 0.667, support: 3 },
      { label: 'eel', precision: 0.75, recall: 0.75, f1: 0.75, support: 4 },
    ],
    macroF1: 0.694,
    misclassified: [
      {
        index: 2,
        actual: 0,
        predicted: 1,
        top: [
          { index: 1, p: 0.6 },
          { index: 0, p: 0.3 },
          { index: 2, p: 0.1 },
        ],
      },
      {
        index: 5,
        actual: 1,
        predicted: 2,
        top: [
          { index: 2, p: 0.5 },
          { index: 1, p: 0.4 },
          { index: 0, p: 0.1 },
        ],
      },
      {
        index: 9,
        actual: 2,
        predicted: 0,
        top: [
          { index: 0, p: 0.7 },
          { index: 2, p: 0.2 },
          { index: 1, p: 0.1 },
        ],
      },
    ],
    predictions: [0, 0, 1, 1, 1, 2, 2, 2, 2, 0],
    ...overrides,
  }
}
