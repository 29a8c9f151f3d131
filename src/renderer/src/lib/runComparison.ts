import { PRESETS } from '@shared/presets'
import { LR_SCHEDULE_LABELS, type RunSummary, type SplitName } from '@shared/schemas'
import { describeAugmentation } from '@shared/trainConfig'

import type { SortDirection } from '@renderer/composables/tableSort'

import { formatDuration, formatPercent } from './format'

/** A run's headline accuracy and the split it was measured on. */
export interface RunAccuracy {
  accuracy: number
  split: SplitName
}

/**
 * The accuracy a run is ranked by: on the held-out test split when it has one, else the last
 * evaluation of its saved model (naming its split), else its best validation accuracy.
 */
export function runAccuracy(run: RunSummary): RunAccuracy | null {
  const m = run.metrics
  if (m?.testAccuracy !== undefined) return { accuracy: m.testAccuracy, split: 'test' }
  if (m?.evaluation) return { accuracy: m.evaluation.accuracy, split: m.evaluation.split }
  if (m?.valAccuracy !== undefined) return { accuracy: m.valAccuracy, split: 'validation' }
  return null
}

/** A split as a table names it, short and long (for the tooltip). */
export const SPLIT_TEXT: Readonly<Record<SplitName, { short: string; long: string }>> = {
  test: { short: 'test', long: 'Held-out test split: data training never saw' },
  validation: {
    short: 'val',
    long: 'Validation split: the run chose its best epoch on it, so it is not a test',
  },
  train: { short: 'train', long: 'Training split: not held out' },
}

/** The columns of the comparison table, in order. */
export const COMPARISON_COLUMNS = [
  { key: 'name', label: 'Run', numeric: false },
  { key: 'dataset', label: 'Dataset', numeric: false },
  { key: 'preset', label: 'Preset', numeric: false },
  { key: 'epochs', label: 'Epochs', numeric: true },
  { key: 'batchSize', label: 'Batch', numeric: true },
  { key: 'learningRate', label: 'Learning rate', numeric: true },
  { key: 'augmentation', label: 'Augmentation', numeric: false },
  { key: 'seconds', label: 'Time', numeric: true },
  { key: 'backend', label: 'Backend', numeric: false },
  { key: 'accuracy', label: 'Accuracy', numeric: true },
] as const

export type ComparisonKey = (typeof COMPARISON_COLUMNS)[number]['key']

/** One cell: what it shows, what it sorts by (null: unknown, always last) and a tooltip. */
export interface ComparisonCell {
  text: string
  value: string | number | null
  title?: string
  /** A short tag after the text (the accuracy's split). */
  tag?: string
}

export interface ComparisonRow {
  id: string
  cells: Record<ComparisonKey, ComparisonCell>
}

const UNKNOWN: ComparisonCell = { text: '—', value: null, title: 'Not recorded' }

function epochsCell(run: RunSummary): ComparisonCell {
  const trained = run.metrics?.epochs
  const planned = run.config?.epochs
  if (trained === undefined && planned === undefined) return UNKNOWN
  if (trained === undefined) return { text: String(planned), value: planned!, title: 'planned' }
  if (planned === undefined || planned === trained) return { text: String(trained), value: trained }
  return {
    text: `${trained} of ${planned}`,
    value: trained,
    title: `${trained} epochs trained of the ${planned} planned`,
  }
}

function learningRateCell(run: RunSummary): ComparisonCell {
  if (!run.config) return UNKNOWN
  const { learningRate, lrSchedule } = run.config
  const schedule = LR_SCHEDULE_LABELS[lrSchedule]
  return {
    text: String(learningRate),
    value: learningRate,
    title: `${learningRate}, ${schedule.toLowerCase()} schedule`,
    ...(lrSchedule === 'constant' ? {} : { tag: schedule.toLowerCase() }),
  }
}

function accuracyCell(run: RunSummary): ComparisonCell {
  const found = runAccuracy(run)
  if (!found) return { text: '—', value: null, title: 'Not evaluated yet' }
  const split = SPLIT_TEXT[found.split]
  return {
    text: formatPercent(found.accuracy, 2),
    value: found.accuracy,
    title: split.long,
    tag: split.short,
  }
}

/** A run as a row of the comparison table. */
export function comparisonRow(run: RunSummary): ComparisonRow {
  const presetTitle = run.preset === 'custom' ? 'Custom' : PRESETS[run.preset].title
  const augmentation = run.config ? describeAugmentation(run.config.augmentation) : null
  const seconds = run.metrics?.seconds
  return {
    id: run.id,
    cells: {
      name: { text: run.name, value: run.name, title: run.name },
      dataset: { text: run.datasetName, value: run.datasetName, title: run.datasetName },
      preset: { text: presetTitle, value: presetTitle },
      epochs: epochsCell(run),
      batchSize: run.config
        ? { text: String(run.config.batchSize), value: run.config.batchSize }
        : UNKNOWN,
      learningRate: learningRateCell(run),
      augmentation:
        augmentation === null
          ? UNKNOWN
          : { text: augmentation, value: augmentation, title: augmentation },
      seconds: seconds === undefined ? UNKNOWN : { text: formatDuration(seconds), value: seconds },
      backend: run.backend
        ? { text: run.backend.name, value: run.backend.name, title: run.backend.detail }
        : UNKNOWN,
      accuracy: accuracyCell(run),
    },
  }
}

/** The direction a first click on a column sorts in: best (highest) first for numbers. */
export function firstDirection(key: ComparisonKey): SortDirection {
  return COMPARISON_COLUMNS.find((c) => c.key === key)?.numeric ? 'descending' : 'ascending'
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

/**
 * `rows` sorted by one column; unknown values go last in either direction, and ties keep the
 * order they came in (newest first).
 */
export function sortRows(
  rows: readonly ComparisonRow[],
  key: ComparisonKey,
  direction: SortDirection,
): ComparisonRow[] {
  const sign = direction === 'ascending' ? 1 : -1
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      const x = a.row.cells[key].value
      const y = b.row.cells[key].value
      if (x === null || y === null) {
        return x === y ? a.index - b.index : x === null ? 1 : -1
      }
      const order =
        typeof x === 'number' && typeof y === 'number'
          ? x - y
          : collator.compare(String(x), String(y))
      return order * sign || a.index - b.index
    })
    .map(({ row }) => row)
}
