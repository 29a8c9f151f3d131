import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import {
  benchmarkRealInk,
  describeBackend,
  findSharedDatasets,
  initBackend,
  INK_SETS,
  isHeldOutPenWriter,
  loadModel,
  loadPenCollection,
  measurePadLatency,
  samplesOfSet,
  subsetPerWriter,
  trainOnInkFolder,
  writersOf,
  type InkRendering,
  type InkSetName,
  type PenSample,
  type PadLatency,
  type RealInkResult,
  type RenderedInk,
} from '@engine/index'
import { BackendRequestSchema, PresetNameSchema, type PresetName } from '@shared/schemas'

import { choiceOption, intOption, parseCommandArgs } from '../args'
import { UsageError } from '../errors'
import { formatDuration, percent, type Output } from '../output'
import { defaultResourcesDir, projectRoot } from '../paths'

export const REAL_INK_HELP = `inklab realink [--set digits|letters] [--model DIR]... [--train-preset P]...
  [--rendering pad|scan]... [--writers held-out|all] [--per-writer N] [--folds K] [--epochs N]
  [--seed N] [--tta] [--backend B] [--json]
      real ink by writers a model never saw: pen trajectories from $INKLAB_DATASETS (default: the
      shared/datasets folder beside the project) drawn on the pad and scanned, accuracy per writer`

const OPTIONS = {
  set: { type: 'string' },
  model: { type: 'string', multiple: true },
  'train-preset': { type: 'string', multiple: true },
  rendering: { type: 'string', multiple: true },
  writers: { type: 'string' },
  'per-writer': { type: 'string' },
  folds: { type: 'string' },
  epochs: { type: 'string' },
  seed: { type: 'string' },
  tta: { type: 'boolean' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const

const RENDERINGS: readonly InkRendering[] = ['pad', 'scan']
/** Seed of the renderings unless --seed says otherwise. */
const DEFAULT_SEED = 7

/** One model or preset and its per-rendering results. */
interface Subject {
  name: string
  results: RealInkResult[]
  seconds: number
  /** Stroke-to-prediction time on the pad path (models only). */
  padLatency?: PadLatency
}

/** The bundled digits model. */
function bundledModelDir(): string {
  return join(defaultResourcesDir(), 'models', 'mnist')
}

/**
 * Writers split into `folds` groups (round robin in natural order): each fold trains on the other
 * groups and is tested on its own, so every writer is scored by a model that never saw them.
 */
function writerFolds(samples: readonly PenSample[], folds: number): string[][] {
  const writers = writersOf(samples)
  const groups: string[][] = Array.from({ length: Math.min(folds, writers.length) }, () => [])
  writers.forEach((w, i) => groups[i % groups.length]!.push(w))
  return groups
}

/** Per-writer table: one row per writer, one column per rendering, then the total. */
function printTable(out: Output, subject: Subject): void {
  const renderings = subject.results.map((r) => r.rendering)
  out.result(`\n${subject.name} (${formatDuration(subject.seconds)})`)
  out.result(
    ['writer'.padEnd(18), 'n'.padStart(5), ...renderings.map((r) => r.padStart(9))].join(' '),
  )
  for (const [i, w] of subject.results[0]!.writers.entries()) {
    out.result(
      [
        w.writer.padEnd(18),
        String(w.count).padStart(5),
        ...subject.results.map((r) => percent(r.writers[i]!.accuracy).padStart(9)),
      ].join(' '),
    )
  }
  const total = subject.results[0]!.total
  out.result(
    [
      'all'.padEnd(18),
      String(total.count).padStart(5),
      ...subject.results.map((r) => percent(r.total.accuracy).padStart(9)),
    ].join(' '),
  )
  const worst = subject.results.map((r) => Math.min(...r.writers.map((w) => w.accuracy)))
  out.result(
    ['worst writer'.padEnd(18), ''.padStart(5), ...worst.map((a) => percent(a).padStart(9))].join(
      ' ',
    ),
  )
  if (subject.padLatency) {
    const { count, medianMs, p95Ms } = subject.padLatency
    out.result(
      `pad stroke-to-prediction: median ${medianMs.toFixed(1)} ms, 95th percentile ${p95Ms.toFixed(1)} ms (${count} drawings)`,
    )
  }
}

/** `inklab realink`: the real-ink benchmark. */
export async function realInkCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('realink', argv, OPTIONS)
  const setName = choiceOption(
    'set',
    values.set ?? 'digits',
    Object.keys(INK_SETS) as InkSetName[],
  )!
  const set = INK_SETS[setName]
  const presets = (values['train-preset'] ?? []).map((p) =>
    choiceOption(
      'train-preset',
      p,
      PresetNameSchema.options.filter((n) => n !== 'custom'),
    )!,
  ) as PresetName[]
  const renderings = (values.rendering ?? RENDERINGS).map((r) =>
    choiceOption('rendering', r, RENDERINGS)!,
  )
  const writersMode = choiceOption('writers', values.writers ?? 'held-out', ['held-out', 'all'])!
  const perWriter = intOption('per-writer', values['per-writer'], { min: 1, max: 100_000 })
  const folds = intOption('folds', values.folds, { min: 2, max: 100 })
  const epochs = intOption('epochs', values.epochs, { min: 1, max: 1000 })
  const seed = intOption('seed', values.seed, { min: 0, max: 2 ** 31 - 1 }) ?? DEFAULT_SEED
  const modelDirs =
    values.model !== undefined
      ? values.model.map((m) => resolve(m))
      : presets.length === 0 && setName === 'digits'
        ? [bundledModelDir()]
        : []
  if (modelDirs.length === 0 && presets.length === 0) {
    throw new UsageError(`--set ${setName} needs --model DIR or --train-preset P`)
  }

  const backend = await initBackend(
    choiceOption('backend', values.backend ?? 'auto', BackendRequestSchema.options)!,
  )
  out.info(describeBackend(backend))
  const datasetsDir = findSharedDatasets(projectRoot())
  const all = samplesOfSet(await loadPenCollection(set.collection, datasetsDir), set)
  out.info(`${set.description}: ${all.length} samples from ${datasetsDir}`)

  // pendigits: the held-out writers are fixed (see isHeldOutPenWriter); the others may train.
  const heldOutOnly = setName === 'digits' && writersMode === 'held-out'
  const tested = (samples: PenSample[]): PenSample[] =>
    perWriter ? subsetPerWriter(samples, perWriter) : samples
  const subjects: Subject[] = []
  const progress = (rendering: InkRendering, done: number, total: number): void =>
    out.progress(`rendering ${rendering}: ${done}/${total}`)

  // Every model reads the same renderings, made once.
  const rendered: Partial<Record<InkRendering, RenderedInk>> = {}
  for (const modelDir of modelDirs) {
    const started = Date.now()
    const { model, metadata } = await loadModel(modelDir)
    try {
      const samples = tested(heldOutOnly ? all.filter((s) => isHeldOutPenWriter(s.writer)) : all)
      const results = await benchmarkRealInk({
        model,
        labels: metadata.labels,
        samples,
        renderings,
        seed,
        tta: values.tta,
        rendered,
        onProgress: progress,
      })
      out.endProgress()
      const padLatency = measurePadLatency(model, metadata.labels, samples.slice(0, 200), seed)
      subjects.push({
        name: `model ${metadata.name} (${modelDir})${values.tta ? ' with test-time augmentation' : ''}`,
        padLatency,
        results,
        seconds: (Date.now() - started) / 1000,
      })
    } finally {
      model.dispose()
    }
  }

  for (const preset of presets) {
    const started = Date.now()
    // Each fold: a folder of the training writers' scans, trained as a person would, tested on the rest.
    const groups =
      setName === 'digits' && !folds
        ? [writersOf(all).filter(isHeldOutPenWriter)]
        : writerFolds(all, folds ?? writersOf(all).length)
    const perFold: { samples: PenSample[]; results: RealInkResult[] }[] = []
    for (const [f, group] of groups.entries()) {
      const testWriters = new Set(group)
      const train = all.filter((s) => !testWriters.has(s.writer))
      const test = tested(all.filter((s) => testWriters.has(s.writer)))
      const dir = await mkdtemp(join(tmpdir(), 'inklab-realink-'))
      try {
        out.info(
          `${preset} fold ${f + 1}/${groups.length}: training on ${train.length} scans by ${writersOf(train).length} writers, testing ${group.join(' ')}`,
        )
        const { dataset, result } = await trainOnInkFolder({
          samples: train,
          dir,
          seed,
          overrides: { preset, ...(epochs ? { epochs } : {}) },
          onProgress: (p) => {
            if (p.kind === 'batch')
              out.progress(
                `${preset} fold ${f + 1}: epoch ${p.epoch + 1} batch ${p.batch + 1}/${p.batchesPerEpoch} loss ${p.loss.toFixed(3)}`,
              )
          },
          log: (line) => out.info(`  ${line}`),
        })
        try {
          const results = await benchmarkRealInk({
            model: result.model,
            labels: dataset.labels,
            samples: test,
            renderings,
            seed,
            onProgress: progress,
          })
          out.endProgress()
          perFold.push({ samples: test, results })
        } finally {
          result.model.dispose()
        }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
    subjects.push({
      name: `preset ${preset} trained on a folder (${groups.length === 1 ? 'training writers' : `${groups.length} writer folds`})`,
      results: mergeFolds(perFold.map((f) => f.results)),
      seconds: (Date.now() - started) / 1000,
    })
  }

  for (const subject of subjects) printTable(out, subject)
  out.emitJson({ set: setName, seed, writers: heldOutOnly ? 'held-out' : 'all', subjects })
  return 0
}

/** Joins the per-writer scores of folds (each writer is in exactly one fold). */
function mergeFolds(folds: RealInkResult[][]): RealInkResult[] {
  const first = folds[0] ?? []
  return first.map((r, k) => {
    const writers = folds.flatMap((f) => f[k]!.writers)
    const count = writers.reduce((a, w) => a + w.count, 0)
    const correct = writers.reduce((a, w) => a + w.correct, 0)
    const collator = new Intl.Collator(undefined, { numeric: true })
    writers.sort((a, b) => collator.compare(a.writer, b.writer))
    return {
      rendering: r.rendering,
      writers,
      total: { writer: 'all', count, correct, accuracy: count ? correct / count : 0 },
    }
  })
}
