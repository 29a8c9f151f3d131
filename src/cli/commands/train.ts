import {
  describeBackend,
  evaluateModel,
  architectureOf,
  assertModelDestination,
  classCounts,
  createModelMetadata,
  initBackend,
  PRESETS,
  resolveTrainConfig,
  runMetrics,
  saveModel,
  trainModel,
  validateArchitecture,
  type Dataset,
} from '@engine/index'
import { parseArchitectureJson } from '@shared/architecture'
import { sparseClassWarning } from '@shared/presets'
import {
  AugmentationSchema,
  BackendRequestSchema,
  PresetNameSchema,
  type Architecture,
  type Augmentation,
  type PresetName,
} from '@shared/schemas'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

import { choiceOption, intOption, numberOption, parseCommandArgs, required } from '../args'
import { defaultPresetForArg, loadDatasetArg } from '../datasetArg'
import { describeError, EXIT, UsageError } from '../errors'
import { bar, formatDuration, percent, type Output } from '../output'
import { VERSION } from '../version'

export const TRAIN_HELP = `inklab train --dataset <mnist|fashion-mnist|DIR|IDX-DIR> --preset <classic|fast|accurate|robust> --out DIR
  [--architecture FILE.json]   (preset custom: {"layers": [{"type": "conv2d", "filters": 32, ...}, ...]})
  [--epochs N] [--batch-size N] [--lr X] [--schedule constant|cosine|step|onecycle]
  [--validation-split F] [--augment | --no-augment] [--patience N] [--limit N] [--seed N]
  [--backend auto|native|wasm|cpu] [--json]`

const OPTIONS = {
  dataset: { type: 'string' },
  preset: { type: 'string' },
  architecture: { type: 'string' },
  out: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  schedule: { type: 'string' },
  'validation-split': { type: 'string' },
  augment: { type: 'boolean' },
  'no-augment': { type: 'boolean' },
  patience: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const

/** `inklab train`: trains a preset on a dataset, evaluates it and writes the model folder. */
export async function trainCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('train', argv, OPTIONS)
  const datasetArg = required('dataset', values.dataset)
  const outDir = resolve(required('out', values.out))
  const architecture = values.architecture ? readArchitecture(values.architecture) : undefined
  const preset = choiceOption(
    'preset',
    values.preset ?? (architecture ? 'custom' : defaultPresetForArg(datasetArg)),
    PresetNameSchema.options,
  )!
  if (preset === 'custom' && !architecture) {
    throw new UsageError('--preset custom needs --architecture FILE.json')
  }
  if (values.augment && values['no-augment']) {
    throw new UsageError('--augment and --no-augment cannot be used together')
  }
  const backendRequest = choiceOption(
    'backend',
    values.backend ?? 'auto',
    BackendRequestSchema.options,
  )!
  const config = resolveTrainConfig({
    preset,
    architecture,
    epochs: intOption('epochs', values.epochs, { min: 1, max: 1000 }),
    batchSize: intOption('batch-size', values['batch-size'], { min: 1, max: 4096 }),
    learningRate: numberOption('lr', values.lr, { min: 1e-7, max: 10 }),
    lrSchedule: choiceOption('schedule', values.schedule, [
      'constant',
      'cosine',
      'step',
      'onecycle',
    ] as const),
    validationSplit: numberOption('validation-split', values['validation-split'], {
      min: 0,
      max: 0.9,
    }),
    earlyStoppingPatience: intOption('patience', values.patience, { min: 0, max: 1000 }),
    limit: intOption('limit', values.limit, { min: 1, max: 10_000_000 }),
    seed: intOption('seed', values.seed, { min: -(2 ** 31), max: 2 ** 31 - 1 }),
    backend: backendRequest,
    augmentation: augmentationOverride(preset, values.augment, values['no-augment']),
  })

  // Before any work: --out must not be someone's folder or file (a save replaces it).
  await assertModelDestination(outDir)
  const backend = await initBackend(config.backend)
  out.info(describeBackend(backend))

  const controller = new AbortController()
  let interrupts = 0
  const onSigint = (): void => {
    interrupts += 1
    if (interrupts > 1) process.exit(EXIT.cancelled)
    out.info(
      'stopping after this batch (the best model so far is kept); press Ctrl+C again to quit now',
    )
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  try {
    const started = Date.now()
    let dataset: Dataset
    try {
      dataset = await loadDataset(datasetArg, out, controller.signal)
    } catch (error) {
      if (!controller.signal.aborted) throw error
      out.info('cancelled while loading the dataset; nothing was trained or written')
      out.emitJson({ stopReason: 'cancelled', saved: false })
      return EXIT.cancelled
    }
    const sparse = sparseClassWarning(
      dataset.labels,
      classCounts(dataset.train, dataset.labels.length),
    )
    if (sparse) out.info(`warning: ${sparse}`)
    const check = validateArchitecture(architectureOf(config), dataset.labels.length)
    if (!check.ok) throw new UsageError(`invalid architecture: ${check.errors.join('; ')}`)
    out.info(
      `dataset: ${dataset.name}, ${dataset.labels.length} classes, ${dataset.train.count} training` +
        ` and ${dataset.test?.count ?? 0} test images`,
    )
    out.info(
      `training ${preset}: ${config.epochs} epochs, batch ${config.batchSize}, lr ${config.learningRate}` +
        ` (${config.lrSchedule}), ${check.totalParams.toLocaleString('en')} parameters, augmentation ${config.augmentation.enabled ? 'on' : 'off'}` +
        (config.limit ? `, limited to ${config.limit} samples` : ''),
    )
    const result = await trainModel({
      dataset,
      config,
      signal: controller.signal,
      // The best model so far is kept at --out as training goes: a crash loses nothing.
      checkpointDir: outDir,
      // The trainer's own epoch lines repeat the ones above; its other messages are warnings.
      log: (message) => {
        if (!message.startsWith('epoch ')) out.info(message)
      },
      metadata: { name: `${dataset.name} ${preset}`, inklabVersion: VERSION },
      onProgress: (p) => {
        if (p.kind === 'batch') {
          out.progress(
            `epoch ${p.epoch + 1}/${config.epochs} ${bar((p.batch + 1) / p.batchesPerEpoch)} ` +
              `${p.batch + 1}/${p.batchesPerEpoch} loss ${p.loss.toFixed(4)} acc ${percent(p.accuracy)} ` +
              `${Math.round(p.samplesPerSecond)} samples/s ETA ${formatDuration(p.etaSeconds)}`,
          )
        } else {
          out.info(
            `epoch ${p.epoch + 1}/${p.epochs}: loss ${p.loss.toFixed(4)} acc ${percent(p.accuracy)}` +
              (p.valLoss !== undefined
                ? ` | val loss ${p.valLoss.toFixed(4)} val acc ${percent(p.valAccuracy)}`
                : '') +
              ` | ${Math.round(p.samplesPerSecond)} samples/s, ${formatDuration(p.elapsedSeconds)} elapsed` +
              (p.improved ? ' *' : ''),
          )
        }
      },
    })
    if (result.stopReason === 'diverged' || result.stopReason === 'failed') {
      throw new Error(result.message ?? `training ${result.stopReason}`)
    }
    if (result.stopReason !== 'completed')
      out.info(result.message ?? `training ${result.stopReason}`)
    if (result.stopReason === 'cancelled' && result.bestEpoch < 0) {
      // No epoch finished: there is no model worth keeping, and --out keeps what it had.
      result.model.dispose()
      out.info(`cancelled before the first epoch ended; ${outDir} was left as it was`)
      out.emitJson({ stopReason: 'cancelled', saved: false })
      return EXIT.cancelled
    }

    const evalSplit = dataset.test ?? dataset.train
    const evalName = dataset.test ? 'test' : 'training (the dataset has no test split)'
    const report = evaluateModel(result.model, evalSplit, dataset.labels)
    const metadata = createModelMetadata({
      dataset,
      config,
      backend: backend.name,
      name: `${dataset.name} ${preset}`,
      inklabVersion: VERSION,
      metrics: runMetrics(result, report),
    })
    await saveModel(outDir, result.model, metadata)
    result.model.dispose()
    const seconds = (Date.now() - started) / 1000
    out.result(
      `${evalName} accuracy ${percent(report.accuracy)}, loss ${report.loss.toFixed(4)} ` +
        `(${report.count} images); trained ${result.history.length} epochs in ` +
        `${formatDuration(result.seconds)} at ${Math.round(result.samplesPerSecond)} samples/s on ${backend.name}`,
    )
    out.result(`model written to ${outDir}`)
    out.emitJson({
      testAccuracy: report.accuracy,
      testLoss: report.loss,
      seconds: result.seconds,
      totalSeconds: seconds,
      backend: backend.name,
      samplesPerSecond: result.samplesPerSecond,
      epochs: result.history.length,
      stopReason: result.stopReason,
      preset,
      dataset: dataset.name,
      evaluatedOn: dataset.test ? 'test' : 'train',
      out: outDir,
    })
    return result.stopReason === 'cancelled' ? EXIT.cancelled : EXIT.ok
  } finally {
    process.off('SIGINT', onSigint)
  }
}

/** Reads a custom architecture file: JSON `{ layers: [...] }`, checked against the schema. */
function readArchitecture(file: string): Architecture {
  let text: string
  try {
    text = readFileSync(resolve(file), 'utf8')
  } catch (error) {
    throw new UsageError(`--architecture ${file}: ${describeError(error)}`)
  }
  const parsed = parseArchitectureJson(text)
  if (!parsed.ok) throw new UsageError(`${file}: invalid architecture: ${parsed.error}`)
  return { layers: parsed.layers }
}

/** --augment / --no-augment switch the preset's augmentation on or off, keeping its ranges. */
function augmentationOverride(
  preset: PresetName,
  on: boolean | undefined,
  off: boolean | undefined,
): Augmentation | undefined {
  if (!on && !off) return undefined
  const base = AugmentationSchema.parse(
    PRESETS[preset === 'custom' ? 'classic' : preset].defaults.augmentation ?? {},
  )
  return { ...base, enabled: Boolean(on) }
}

/** Loads the dataset, drawing folder-import progress. */
export async function loadDataset(
  arg: string,
  out: Output,
  signal?: AbortSignal,
): Promise<Dataset> {
  const dataset = await loadDatasetArg(
    arg,
    (p) => {
      if (p.phase === 'decoding' && p.total > 0) {
        out.progress(`importing ${bar(p.done / p.total)} ${p.done}/${p.total} images`)
      }
    },
    signal,
  )
  out.endProgress()
  if (dataset.skipped.length > 0) {
    out.info(`skipped ${dataset.skipped.length} file(s):`)
    for (const s of dataset.skipped.slice(0, 20)) out.info(`  ${s.file}: ${s.reason}`)
    if (dataset.skipped.length > 20) out.info(`  ... and ${dataset.skipped.length - 20} more`)
  }
  return dataset
}
