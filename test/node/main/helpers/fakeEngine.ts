// A fake engine (no tfjs): datasets of synthetic pixels, a training loop that only sleeps and
// reports, model folders with the real file names. Fast enough to test the services end to end.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

import type { EngineApi, TrainAndSaveOptions, TrainAndSaveResult } from '@engine/host/engineApi'
import type { Dataset, Split } from '@engine/data/types'
import { summarizeDataset } from '@engine/data/datasetStore'
import {
  addDrawing,
  appendCorrection,
  applyEdits,
  checkCorrection,
  checkLabel,
  readEdits,
  rekeyEditsLog,
  undoLastDrawing,
} from '@engine/data/datasetEdits'
import { createModelMetadata } from '@engine/io/metadata'
import { heldOutSplit, keysOf, namedSplit, trainingSplits } from '@engine/train/splits'
import type { EvaluationReport } from '@shared/schemas/evaluation'
import type { ModelMetadata } from '@shared/schemas/model'
import type { EpochRecord } from '@shared/schemas/run'
import type * as tf from '@tensorflow/tfjs'

const LABELS = ['0', '1', '2']

/** A split of `count` images whose pixels all equal their label * 50 + 10. */
export function syntheticSplit(count: number, classes = LABELS.length): Split {
  const images = new Uint8Array(count * 784)
  const labels = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    labels[i] = i % classes
    images.fill(labels[i] * 50 + 10, i * 784, (i + 1) * 784)
  }
  return { images, labels, count }
}

function syntheticDataset(name: string, source: Dataset['source']): Dataset {
  return {
    name,
    labels: [...LABELS],
    train: syntheticSplit(30),
    test: syntheticSplit(9),
    source,
    skipped: [],
    transposed: false,
  }
}

const fakeModel = (): tf.LayersModel => ({ dispose: () => undefined }) as unknown as tf.LayersModel

async function writeModelFolder(dir: string, metadata: ModelMetadata): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(
    join(dir, 'model.json'),
    JSON.stringify({
      modelTopology: {},
      weightsManifest: [{ paths: ['weights.bin'], weights: [] }],
    }),
  )
  await writeFile(join(dir, 'weights.bin'), new Uint8Array(4))
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(metadata))
}

/** Knobs of the fake engine. */
export interface FakeEngineOptions {
  /** Milliseconds each fake epoch takes. */
  epochMs?: number
  /** False: imported folders have no test split (as real image folders). Default true. */
  folderTestSplit?: boolean
}

/** Builds a fake EngineApi; `calls` records method names. */
export function createFakeEngine(options: FakeEngineOptions = {}): EngineApi & { calls: string[] } {
  const epochMs = options.epochMs ?? 20
  const calls: string[] = []
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
  return {
    calls,
    async initBackend(request = 'auto') {
      calls.push('initBackend')
      return { name: 'cpu', requested: request, tfjsBackend: 'cpu', detail: 'fake backend' }
    },
    async loadBuiltinMnist() {
      calls.push('loadBuiltinMnist')
      return syntheticDataset('MNIST', { kind: 'builtin', name: 'mnist' })
    },
    async loadIdxDirectory(dir) {
      return syntheticDataset('idx', { kind: 'idx', path: dir })
    },
    async importFolder(dir, { onProgress } = {}) {
      const classes = (await readdir(dir)).sort()
      onProgress?.({ phase: 'scanning', done: 0, total: classes.length })
      const dataset = syntheticDataset('folder', { kind: 'folder', path: dir })
      onProgress?.({ phase: 'decoding', done: classes.length, total: classes.length })
      const labels = classes.length >= 2 ? classes.slice(0, 3) : dataset.labels
      if (options.folderTestSplit === false) return { ...dataset, labels, test: undefined }
      return { ...dataset, labels }
    },
    async decodeImageFile(path) {
      const data = new Uint8Array(await readFile(path))
      return { width: data.length, height: 1, data }
    },
    async decodeImageBuffer(data) {
      return { width: data.length, height: 1, data }
    },
    preprocess(image) {
      const max = image.data.reduce((a, b) => Math.max(a, b), 0)
      return { pixels: new Uint8Array(784).fill(max), empty: max === 0 }
    },
    async saveDataset(dir, dataset) {
      await mkdir(dir, { recursive: true })
      await writeFile(
        join(dir, 'fake.json'),
        JSON.stringify({ ...dataset, train: dataset.train.count, test: dataset.test?.count ?? 0 }),
      )
    },
    async loadSavedDataset(dir) {
      calls.push('loadSavedDataset')
      const saved = JSON.parse(await readFile(join(dir, 'fake.json'), 'utf8')) as Dataset & {
        train: number
        test: number
      }
      return {
        ...saved,
        train: syntheticSplit(saved.train),
        test: saved.test ? syntheticSplit(saved.test) : undefined,
      }
    },
    summarizeDataset,
    namedSplit,
    // The edits log is plain files and arrays: the real one.
    readEdits,
    applyEdits,
    addDrawing,
    undoLastDrawing,
    appendCorrection,
    rekeyEditsLog,
    checkCorrection,
    checkLabel,
    /** Sleeps through its batches, writes a checkpoint each epoch and the model at the end. */
    async trainAndSave(opts: TrainAndSaveOptions): Promise<TrainAndSaveResult> {
      const { config, dataset } = opts
      if (opts.initialModelDir) calls.push(`trainAndSave:from:${opts.initialModelDir}`)
      if (opts.heldOut) calls.push(`trainAndSave:heldOut:${opts.heldOut.join(',')}`)
      if (opts.correctionsSince)
        calls.push(`trainAndSave:correctionsSince:${opts.correctionsSince}`)
      const heldOut = opts.heldOut ? new Set(opts.heldOut) : undefined
      const validation = trainingSplits(dataset, config, heldOut).validation
      const validationKeys = validation ? keysOf(dataset, validation) : []
      const history: EpochRecord[] = []
      let stopReason: TrainAndSaveResult['stopReason'] = 'completed'
      const metadata = (epochs: number, extra = {}) =>
        createModelMetadata({
          dataset,
          config,
          backend: 'cpu',
          metrics: { epochs, seconds: 0.1, samplesPerSecond: 100, ...extra },
          name: opts.name,
          inklabVersion: opts.inklabVersion,
        })
      const batches = 4
      for (let epoch = 0; epoch < config.epochs && stopReason === 'completed'; epoch++) {
        for (let batch = 0; batch < batches; batch++) {
          await opts.pauseGate?.()
          if (opts.signal?.aborted) {
            stopReason = 'cancelled'
            break
          }
          await sleep(epochMs / batches)
          opts.onProgress?.({
            kind: 'batch',
            epoch,
            batch,
            batchesPerEpoch: batches,
            step: epoch * batches + batch + 1,
            loss: 1 / (epoch + 1),
            accuracy: 0.5,
            samplesPerSecond: 100,
            etaSeconds: 1,
            elapsedSeconds: 0.1,
          })
        }
        if (stopReason !== 'completed') break
        const record: EpochRecord = {
          kind: 'epoch',
          epoch,
          epochs: config.epochs,
          step: (epoch + 1) * batches,
          loss: 1 / (epoch + 1),
          accuracy: 0.5 + epoch / 100,
          valLoss: 1 / (epoch + 2),
          valAccuracy: 0.6,
          learningRate: config.learningRate,
          samplesPerSecond: 100,
          etaSeconds: 0,
          elapsedSeconds: 0.1 * (epoch + 1),
          improved: true,
        }
        history.push(record)
        opts.onProgress?.(record)
        if (opts.checkpointDir) await writeModelFolder(opts.checkpointDir, metadata(epoch + 1))
      }
      const bestEpoch = history.length - 1
      const metrics = {
        epochs: history.length,
        seconds: 0.1,
        samplesPerSecond: 100,
        valAccuracy: 0.6,
        valLoss: 0.5,
      }
      const base = {
        stopReason,
        ...(stopReason === 'cancelled' ? { message: 'cancelled' } : {}),
        history,
        bestEpoch,
        backend: 'cpu' as const,
        step: 'eager' as const,
        trainCount: dataset.train.count,
        validationCount: validation?.count ?? 0,
        validationKeys,
      }
      if (bestEpoch < 0) return { ...base, metrics, members: 0, evaluation: null, saved: false }
      // Every fake model is right: accuracy 1 and loss 0.01 on the held-out split.
      const judged = heldOutSplit(dataset, config, heldOut)
      const evaluation = judged
        ? { split: judged.name, accuracy: 1, loss: 0.01, count: judged.split.count }
        : null
      const final = {
        ...metrics,
        ...(evaluation ? { evaluation } : {}),
        ...(evaluation?.split === 'test' ? { testAccuracy: 1, testLoss: 0.01 } : {}),
      }
      await writeModelFolder(opts.modelDir, metadata(history.length, final))
      return { ...base, metrics: final, members: 1, evaluation, saved: true }
    },
    evaluateModel(_model, split, labels): EvaluationReport {
      const k = labels.length
      const confusion = labels.map(() => new Array<number>(k).fill(0))
      const predictions: number[] = []
      for (let i = 0; i < split.count; i++) {
        confusion[split.labels[i]][split.labels[i]]++
        predictions.push(split.labels[i])
      }
      return {
        accuracy: 1,
        loss: 0.01,
        count: split.count,
        labels: [...labels],
        confusion,
        perClass: labels.map((label, c) => ({
          label,
          precision: 1,
          recall: 1,
          f1: 1,
          support: confusion[c][c],
        })),
        macroF1: 1,
        misclassified: [],
        predictions,
      }
    },
    async loadModel(dir) {
      calls.push('loadModel')
      const metadata = JSON.parse(
        await readFile(join(dir, 'metadata.json'), 'utf8'),
      ) as ModelMetadata
      return { model: fakeModel(), metadata }
    },
    predictPixels(_model, pixels, labels) {
      return pixels.map(() => ({
        label: labels[1],
        index: 1,
        confidence: 0.9,
        top: [
          { label: labels[1], p: 0.9 },
          { label: labels[0], p: 0.1 },
        ],
      }))
    },
    async exportModel({ modelDir, format, out }) {
      calls.push(`exportModel:${format}`)
      const metadata = JSON.parse(
        await readFile(join(modelDir, 'metadata.json'), 'utf8'),
      ) as ModelMetadata
      if (format === 'tfjs') {
        await writeModelFolder(out, metadata)
      } else {
        await mkdir(dirname(out), { recursive: true })
        await writeFile(out, `fake ${format} export of ${metadata.name}`)
      }
      return { format, path: out, bytes: 1, seconds: 0 }
    },
  }
}

export { writeModelFolder }
