import {
  benchmarkRealInk,
  checkModelDestination,
  concatSplits,
  describeBackend,
  findSharedDatasets,
  INK_SETS,
  initBackend,
  isHeldOutPenWriter,
  loadBuiltinMnist,
  loadPendigits,
  renderTrainingInk,
  loadModel,
  resolveTrainConfig,
  samplesOfSet,
  saveModel,
  trainAndSave,
  writersOf,
  type Dataset,
  type Split,
} from '@engine/index'
import { INK_AUGMENTATION, PRESETS } from '@shared/presets'
import { BackendRequestSchema, type ExtraTrainingData } from '@shared/schemas'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'

import { choiceOption, intOption, parseCommandArgs, required } from '../args'
import { bar, formatDuration, percent, type Output } from '../output'
import { projectRoot } from '../paths'
import { VERSION } from '../version'

export const TRAIN_BUNDLED_HELP = `inklab train-bundled --out DIR [--preset P] [--epochs N] [--pen-copies K]
  [--augmentation ink|preset] [--limit N] [--seed N] [--ink-cache FILE] [--backend B] [--json]
      the bundled digits model: MNIST plus the pendigits training writers drawn on the pad and
      scanned (K renderings each; 0: MNIST only), then MNIST test and real-ink figures in its metadata;
      --ink-cache keeps the rendered pen images between runs with the same seed and K`

const OPTIONS = {
  out: { type: 'string' },
  preset: { type: 'string' },
  epochs: { type: 'string' },
  'pen-copies': { type: 'string' },
  augmentation: { type: 'string' },
  limit: { type: 'string' },
  'ink-cache': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const

/** Seed of the benchmark renderings recorded in the metadata (as `inklab realink` uses). */
const BENCHMARK_SEED = 7
const PENDIGITS_CREDIT =
  'E. Alpaydin and F. Alimoglu, Pen-Based Recognition of Handwritten Digits, Bogazici University, ' +
  '1998; UCI Machine Learning Repository; CC BY 4.0'

/** `inklab train-bundled`: trains the model InkLab ships for digits. */
export async function trainBundledCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('train-bundled', argv, OPTIONS)
  const outDir = resolve(required('out', values.out))
  const preset = choiceOption('preset', values.preset ?? 'fast', [
    'classic',
    'fast',
    'accurate',
  ] as const)!
  const copies = intOption('pen-copies', values['pen-copies'], { min: 0, max: 20 }) ?? 2
  const augmentation = choiceOption('augmentation', values.augmentation ?? 'ink', [
    'ink',
    'preset',
  ] as const)!
  const seed = intOption('seed', values.seed, { min: 0, max: 2 ** 31 - 1 }) ?? 42
  const config = resolveTrainConfig({
    preset,
    seed,
    epochs: intOption('epochs', values.epochs, { min: 1, max: 1000 }),
    limit: intOption('limit', values.limit, { min: 1, max: 10_000_000 }),
    augmentation: augmentation === 'ink' ? INK_AUGMENTATION : PRESETS[preset].defaults.augmentation,
  })
  // Before any work: --out must not be someone's folder or file (a save replaces it).
  await checkModelDestination(outDir)
  const backend = await initBackend(
    choiceOption('backend', values.backend ?? 'auto', BackendRequestSchema.options)!,
  )
  out.info(describeBackend(backend))

  const mnist = await loadBuiltinMnist()
  const pen = samplesOfSet(await loadPendigits(findSharedDatasets(projectRoot())), INK_SETS.digits)
  const trainPen = pen.filter((s) => !isHeldOutPenWriter(s.writer))
  const testPen = pen.filter((s) => isHeldOutPenWriter(s.writer))
  let dataset: Dataset = mnist
  const extraTraining: ExtraTrainingData[] = []
  // MNIST first: `limit` (a quick experiment) takes from the whole mix, stratified by class.
  if (copies > 0) {
    const render = (): Promise<Split> =>
      renderTrainingInk(trainPen, mnist.labels, {
        seed,
        copies,
        renderings: ['pad', 'scan'],
        onProgress: (done, total) => out.progress(`rendering training ink ${done}/${total}`),
      })
    const cache = values['ink-cache'] ? resolve(values['ink-cache']) : undefined
    const ink = cache
      ? await cachedSplit(cache, `${seed}:${copies}:${trainPen.length}`, render)
      : await render()
    out.endProgress()
    dataset = { ...mnist, train: concatSplits(mnist.train, ink) }
    extraTraining.push({
      name: 'pendigits',
      detail:
        `${writersOf(trainPen).length} writers (${writersOf(trainPen).join(' ')}), ` +
        `${trainPen.length} digits, each drawn on the pad and scanned ${copies}x`,
      count: ink.count,
      credit: PENDIGITS_CREDIT,
    })
  }
  out.info(
    `training ${preset}: ${config.epochs} epochs on ${dataset.train.count} images ` +
      `(${mnist.train.count} MNIST${copies ? ` + ${dataset.train.count - mnist.train.count} pen renderings` : ''}), augmentation ${augmentation}`,
  )
  // The one train-evaluate-save path (MNIST's test split is the held-out figure), then the
  // real-ink benchmark on the saved model, recorded beside it in the metadata.
  const result = await trainAndSave({
    dataset,
    config,
    modelDir: outDir,
    name: copies > 0 ? 'MNIST + pen digits' : `MNIST ${preset}`,
    inklabVersion: VERSION,
    log: (line) => out.info(line),
    onProgress: (p) => {
      if (p.kind === 'batch') {
        out.progress(
          `epoch ${p.epoch + 1}/${config.epochs} ${bar((p.batch + 1) / p.batchesPerEpoch)} loss ${p.loss.toFixed(4)} ` +
            `${Math.round(p.samplesPerSecond)} samples/s ETA ${formatDuration(p.etaSeconds)}`,
        )
      }
    },
  })
  if (result.stopReason !== 'completed' || !result.saved) {
    throw new Error(result.message ?? `training ${result.stopReason}`)
  }
  if (result.evaluation) {
    out.result(
      `MNIST test accuracy ${percent(result.evaluation.accuracy)} (${result.evaluation.count} images)`,
    )
  }
  const { model, metadata: saved } = await loadModel(outDir)
  try {
    const bench = await benchmarkRealInk({
      model,
      labels: mnist.labels,
      samples: testPen,
      renderings: ['pad', 'scan'],
      seed: BENCHMARK_SEED,
      onProgress: (r, done, total) => out.progress(`real ink (${r}) ${done}/${total}`),
    })
    out.endProgress()
    for (const r of bench) {
      const worst = Math.min(...r.writers.map((w) => w.accuracy))
      out.result(
        `real ink ${r.rendering}: ${percent(r.total.accuracy)} of ${r.total.count} held-out digits, worst writer ${percent(worst)}`,
      )
    }
    const metadata = {
      ...saved,
      ...(extraTraining.length ? { extraTraining } : {}),
      realInk: {
        set: 'digits',
        writers: writersOf(testPen),
        seed: BENCHMARK_SEED,
        count: testPen.length,
        accuracy: Object.fromEntries(bench.map((r) => [r.rendering, r.total.accuracy])),
        worstWriter: Object.fromEntries(
          bench.map((r) => [r.rendering, Math.min(...r.writers.map((w) => w.accuracy))]),
        ),
      },
    }
    await saveModel(outDir, model, metadata)
    out.result(`model written to ${outDir} (${formatDuration(result.metrics.seconds)} of training)`)
    out.emitJson({ metadata })
    return 0
  } finally {
    model.dispose()
  }
}

/**
 * The split stored at `file` when it was made with the same `key`, else a freshly made one, stored
 * there for next time (JSON header line, then images, then labels).
 */
async function cachedSplit(file: string, key: string, make: () => Promise<Split>): Promise<Split> {
  if (existsSync(file)) {
    const bytes = await readFile(file)
    const end = bytes.indexOf(10)
    const header = JSON.parse(bytes.subarray(0, end).toString('utf8')) as {
      key: string
      count: number
    }
    if (header.key === key) {
      const images = new Uint8Array(bytes.subarray(end + 1, end + 1 + header.count * 784))
      const labels = new Uint8Array(bytes.subarray(end + 1 + header.count * 784))
      if (labels.length === header.count) return { images, labels, count: header.count }
    }
  }
  const split = await make()
  const header = Buffer.from(`${JSON.stringify({ key, count: split.count })}\n`)
  await writeFile(file, Buffer.concat([header, split.images, Buffer.from(split.labels)]))
  return split
}
