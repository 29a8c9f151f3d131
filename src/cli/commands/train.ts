import {
  architectureOf,
  checkModelDestination,
  classCounts,
  describeBackend,
  initBackend,
  resolveTrainConfig,
  trainAndSave,
  validateArchitecture,
  type Dataset,
} from '@engine/index'
import { describeArchitectureIssues, parseArchitectureJson } from '@shared/architecture'
import { sparseClassWarning } from '@shared/presets'
import {
  AugmentationSchema,
  BackendRequestSchema,
  LrScheduleSchema,
  PresetNameSchema,
  TRAIN_LIMITS,
  type Architecture,
  type Augmentation,
  type PresetName,
} from '@shared/schemas'
import { toFileSystemError } from '@shared/node/files'
import { tidyModelFolder } from '@shared/node/modelFolder'
import { SPLIT_LABELS } from '@shared/schemas/evaluation'
import { epochLabel, presetDefaults } from '@shared/trainConfig'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

import { choiceOption, intOption, numberOption, parseCommandArgs, required } from '../args'
import {
  defaultPresetForArg,
  loadDatasetArg,
  TEST_SPLIT_HELP,
  TEST_SPLIT_OPTIONS,
  testSplitOption,
  type DatasetArgOptions,
} from '../datasetArg'
import { describeError, EXIT, UsageError } from '../errors'
import { bar, formatDuration, percent, type Output } from '../output'
import { VERSION } from '../version'

export const TRAIN_HELP = `inklab train --dataset <mnist|fashion-mnist|DIR|IDX-DIR> --preset <classic|fast|accurate|robust> --out DIR
  [--architecture FILE.json]   (preset custom: {"layers": [{"type": "conv2d", "filters": 32, ...}, ...]})
  [--epochs N] [--batch-size N] [--lr X] [--schedule constant|cosine|step|onecycle]
  [--validation-split F] [--augment | --no-augment] [--patience N] [--ema DECAY] [--limit N] [--seed N]
  [--members N]   (train N networks in turn, seeds one apart, and save their average; accurate: 4)
  ${TEST_SPLIT_HELP}
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
  ema: { type: 'string' },
  members: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  ...TEST_SPLIT_OPTIONS,
} as const

/** `inklab train`: trains a preset on a dataset, evaluates it and writes the model folder. */
export async function trainCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('train', argv, OPTIONS)
  const datasetArg = required('dataset', values.dataset)
  const test = testSplitOption(values)
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
    epochs: intOption('epochs', values.epochs, TRAIN_LIMITS.epochs),
    batchSize: intOption('batch-size', values['batch-size'], TRAIN_LIMITS.batchSize),
    learningRate: numberOption('lr', values.lr, TRAIN_LIMITS.learningRate),
    lrSchedule: choiceOption('schedule', values.schedule, LrScheduleSchema.options),
    validationSplit: numberOption(
      'validation-split',
      values['validation-split'],
      TRAIN_LIMITS.validationSplit,
    ),
    earlyStoppingPatience: intOption(
      'patience',
      values.patience,
      TRAIN_LIMITS.earlyStoppingPatience,
    ),
    emaDecay: numberOption('ema', values.ema, TRAIN_LIMITS.emaDecay),
    members: intOption('members', values.members, TRAIN_LIMITS.members),
    limit: intOption('limit', values.limit, TRAIN_LIMITS.limit),
    seed: intOption('seed', values.seed, TRAIN_LIMITS.seed),
    backend: backendRequest,
    augmentation: augmentationOverride(preset, values.augment, values['no-augment']),
  })

  // Before any work: --out must be a place a model can be written, and not someone's folder.
  await checkOut(outDir)
  const backend = await initBackend(config.backend)
  out.info(describeBackend(backend))

  const controller = new AbortController()
  let interrupts = 0
  const onSigint = (): void => {
    interrupts += 1
    if (interrupts > 1) process.exit(EXIT.cancelled)
    out.info('stopping after this batch; press Ctrl+C again to quit now')
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  try {
    const started = Date.now()
    let dataset: Dataset
    try {
      dataset = await loadDataset(datasetArg, out, {
        signal: controller.signal,
        ...(test ? { test } : {}),
      })
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
    if (!check.ok) {
      throw new UsageError(`invalid architecture: ${describeArchitectureIssues(check.errors)}`)
    }
    out.info(
      `dataset: ${dataset.name}, ${dataset.labels.length} classes, ${dataset.train.count} training` +
        ` and ${dataset.test?.count ?? 0} held-out test images`,
    )
    out.info(
      `training ${preset}: ${config.epochs} epochs, batch ${config.batchSize}, lr ${config.learningRate}` +
        ` (${config.lrSchedule}), ${check.totalParams.toLocaleString('en')} parameters, augmentation ${config.augmentation.enabled ? 'on' : 'off'}` +
        (config.emaDecay > 0 ? `, weight average (decay ${config.emaDecay})` : '') +
        (config.members > 1 ? `, ${config.members} networks trained in turn and averaged` : '') +
        (config.limit ? `, limited to ${config.limit} samples` : ''),
    )
    const result = await trainAndSave({
      dataset,
      config,
      modelDir: outDir,
      // The best model so far is kept at --out as training goes: a crash loses nothing.
      checkpointDir: outDir,
      name: `${dataset.name} ${preset}`,
      inklabVersion: VERSION,
      signal: controller.signal,
      // The trainer's own epoch lines repeat the ones below; its other messages are warnings.
      log: (message) => {
        if (!/^(network \d+\/\d+ )?epoch /.test(message)) out.info(message)
      },
      onProgress: (p) => {
        if (p.kind === 'batch') {
          out.progress(
            `${epochLabel(p.epoch, config)} ${bar((p.batch + 1) / p.batchesPerEpoch)} ` +
              `${p.batch + 1}/${p.batchesPerEpoch} loss ${p.loss.toFixed(4)} acc ${percent(p.accuracy)} ` +
              `${Math.round(p.samplesPerSecond)} samples/s ETA ${formatDuration(p.etaSeconds)}`,
          )
        } else {
          out.info(
            `${epochLabel(p.epoch, config)}: loss ${p.loss.toFixed(4)} acc ${percent(p.accuracy)}` +
              (p.valLoss !== undefined
                ? ` | val loss ${p.valLoss.toFixed(4)} val acc ${percent(p.valAccuracy)}`
                : '') +
              ` | ${Math.round(p.samplesPerSecond)} samples/s, ${formatDuration(p.elapsedSeconds)} elapsed` +
              (p.improved ? ' *' : ''),
          )
        }
      },
    })
    if (!result.saved) {
      if (result.stopReason !== 'cancelled') {
        throw new Error(result.message ?? `training ${result.stopReason}`)
      }
      // No epoch finished: there is no model worth keeping, and --out keeps what it had.
      out.info(
        `cancelled before the first epoch ended; nothing was saved and ${outDir} was left as it was`,
      )
      out.emitJson({ stopReason: 'cancelled', saved: false })
      return EXIT.cancelled
    }
    if (result.stopReason === 'diverged' || result.stopReason === 'failed') {
      throw new Error(
        `${result.message ?? `training ${result.stopReason}`}; ` +
          (result.members > 1
            ? `the average of the ${result.members} networks that finished`
            : `the best model before that (${epochLabel(result.bestEpoch, config)})`) +
          ` was saved to ${outDir}`,
      )
    }
    if (result.stopReason !== 'completed') {
      out.info(result.message ?? `training ${result.stopReason}`)
    }
    const evaluation = result.evaluation
    out.result(
      (evaluation
        ? `${SPLIT_LABELS[evaluation.split].title.toLowerCase()} accuracy ` +
          `${percent(evaluation.accuracy)}, loss ${evaluation.loss.toFixed(4)} ` +
          `(${evaluation.count} images, ${SPLIT_LABELS[evaluation.split].meaning}); `
        : 'not evaluated (the dataset has no test split and the run kept no validation split); ') +
        `trained ${result.history.length} epochs in ${formatDuration(result.metrics.seconds)} ` +
        `at ${Math.round(result.metrics.samplesPerSecond)} samples/s on ${backend.name} (${result.step} step)`,
    )
    out.result(`model written to ${outDir}`)
    out.emitJson({
      ...(result.metrics.testAccuracy !== undefined
        ? { testAccuracy: result.metrics.testAccuracy, testLoss: result.metrics.testLoss }
        : {}),
      evaluation,
      seconds: result.metrics.seconds,
      totalSeconds: (Date.now() - started) / 1000,
      backend: backend.name,
      step: result.step,
      samplesPerSecond: result.metrics.samplesPerSecond,
      epochs: result.history.length,
      stopReason: result.stopReason,
      saved: true,
      preset,
      dataset: dataset.name,
      out: outDir,
    })
    return result.stopReason === 'cancelled' ? EXIT.cancelled : EXIT.ok
  } finally {
    process.off('SIGINT', onSigint)
  }
}

/**
 * Checks --out before any work: a save killed earlier is repaired and its leftovers removed, then
 * the folder must be one a model may replace, in a place that can be written.
 */
async function checkOut(outDir: string): Promise<void> {
  try {
    await tidyModelFolder(outDir)
    await checkModelDestination(outDir)
  } catch (error) {
    throw new Error(`--out ${describeError(toFileSystemError(error))}`, { cause: error })
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
  const base = AugmentationSchema.parse(presetDefaults(preset).augmentation)
  return { ...base, enabled: Boolean(on) }
}

/** Loads the dataset, drawing folder-import progress. */
export async function loadDataset(
  arg: string,
  out: Output,
  options: Omit<DatasetArgOptions, 'onProgress'> = {},
): Promise<Dataset> {
  const dataset = await loadDatasetArg(arg, {
    ...options,
    onProgress: (p) => {
      if (p.phase === 'decoding' && p.total > 0) {
        out.progress(`importing ${bar(p.done / p.total)} ${p.done}/${p.total} images`)
      }
    },
  })
  out.endProgress()
  if (dataset.skipped.length > 0) {
    out.info(`skipped ${dataset.skipped.length} file(s):`)
    for (const s of dataset.skipped.slice(0, 20)) out.info(`  ${s.file}: ${s.reason}`)
    if (dataset.skipped.length > 20) out.info(`  ... and ${dataset.skipped.length - 20} more`)
  }
  return dataset
}
