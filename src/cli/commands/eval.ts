import { describeBackend, evaluateModel, initBackend, loadModel } from '@engine/index'
import { BackendRequestSchema, SPLIT_LABELS, type SplitName } from '@shared/schemas'
import { resolve } from 'node:path'

import { choiceOption, parseCommandArgs, required } from '../args'
import { TEST_SPLIT_HELP, TEST_SPLIT_OPTIONS, testSplitOption } from '../datasetArg'
import { UsageError } from '../errors'
import { percent, type Output } from '../output'
import { loadDataset } from './train'

export const EVAL_HELP = `inklab eval --model DIR --dataset <mnist|fashion-mnist|DIR|IDX-DIR>
  ${TEST_SPLIT_HELP}
  [--tta] [--backend B] [--json]   (--tta: each image read at four stroke widths, as the pad does)`

const OPTIONS = {
  model: { type: 'string' },
  dataset: { type: 'string' },
  backend: { type: 'string' },
  tta: { type: 'boolean' },
  json: { type: 'boolean' },
  ...TEST_SPLIT_OPTIONS,
} as const

/**
 * `inklab eval`: accuracy, loss, per-class report and confusion matrix of a saved model on the
 * held-out test split of a dataset (an image folder's is the one `inklab train` and the app hold
 * out); `testAccuracy` is reported for held-out test data only.
 */
export async function evalCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('eval', argv, OPTIONS)
  const modelDir = resolve(required('model', values.model))
  const datasetArg = required('dataset', values.dataset)
  const test = testSplitOption(values)
  const backend = await initBackend(
    choiceOption('backend', values.backend ?? 'auto', BackendRequestSchema.options)!,
  )
  out.info(describeBackend(backend))
  const { model, metadata } = await loadModel(modelDir)
  try {
    const started = Date.now()
    const dataset = await loadDataset(datasetArg, out, test ? { test } : {})
    if (dataset.labels.join('\u0000') !== metadata.labels.join('\u0000')) {
      throw new UsageError(
        `the model's classes (${metadata.labels.join(' ')}) differ from the dataset's ` +
          `(${dataset.labels.join(' ')})`,
      )
    }
    // Held-out test data when the dataset has it; otherwise every image it holds, said as such.
    const splitName: SplitName = dataset.test ? 'test' : 'train'
    const split = dataset.test ?? dataset.train
    const tta = values.tta ?? false
    const report = evaluateModel(model, split, dataset.labels, { tta })
    const seconds = (Date.now() - started) / 1000
    out.result(
      `${SPLIT_LABELS[splitName].title.toLowerCase()} accuracy ${percent(report.accuracy)}, ` +
        `loss ${report.loss.toFixed(4)} on ${report.count} images` +
        (tta ? ', each read at four stroke widths (--tta)' : '') +
        (dataset.test ? '' : ` (${SPLIT_LABELS[splitName].meaning})`),
    )
    const trainedOn = metadata.dataset
    if (
      dataset.test &&
      trainedOn.name === dataset.name &&
      trainedOn.testSize > 0 &&
      trainedOn.testSize !== dataset.test.count
    ) {
      out.info(
        `note: the model held out ${trainedOn.testSize} test images of "${trainedOn.name}" when it ` +
          `was trained, this test split has ${dataset.test.count}: if it is larger, it holds ` +
          'images the model trained on (pass the --test-split it was trained with)',
      )
    }
    if (!out.json) {
      out.result('class        precision  recall     f1         support')
      for (const c of report.perClass) {
        out.result(
          `${c.label.padEnd(12)} ${percent(c.precision).padEnd(10)} ${percent(c.recall).padEnd(10)} ` +
            `${percent(c.f1).padEnd(10)} ${c.support}`,
        )
      }
      out.result('confusion matrix (rows: actual, columns: predicted):')
      const w = Math.max(4, ...report.confusion.flat().map((n) => String(n).length + 1))
      out.result(' '.repeat(w) + dataset.labels.map((l) => l.slice(0, w - 1).padStart(w)).join(''))
      report.confusion.forEach((row, i) => {
        out.result(
          dataset.labels[i].slice(0, w - 1).padStart(w) +
            row.map((n) => String(n).padStart(w)).join(''),
        )
      })
    }
    out.emitJson({
      ...(splitName === 'test' ? { testAccuracy: report.accuracy, testLoss: report.loss } : {}),
      evaluation: {
        split: splitName,
        accuracy: report.accuracy,
        loss: report.loss,
        count: report.count,
      },
      tta,
      seconds,
      backend: backend.name,
      samplesPerSecond: report.count / Math.max(seconds, 1e-6),
      count: report.count,
      macroF1: report.macroF1,
      perClass: report.perClass,
      confusion: report.confusion,
    })
    return 0
  } finally {
    model.dispose()
  }
}
