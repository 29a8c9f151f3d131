import { describeLayer } from '@shared/architecture'
import { SPLIT_LABELS, type EvaluationReport } from '@shared/schemas/evaluation'
import type { LayerSpec } from '@shared/schemas/model'
import type { EpochRecord, RunDetail } from '@shared/schemas/run'
import { LR_SCHEDULE_LABELS, type TrainConfig } from '@shared/schemas/training'
import { architectureOf, describeAugmentation } from '@shared/trainConfig'

/** One line of a chart. */
export interface ChartSeries {
  name: string
  color: string
  points: { x: number; y: number }[]
}

/** Options of `lineChartSvg`. */
export interface LineChartOptions {
  title: string
  xLabel: string
  yLabel: string
  series: ChartSeries[]
  /** Fixed y range (accuracy is [0, 1]); otherwise fitted to the data. */
  yRange?: [number, number]
  width?: number
  height?: number
}

/** Escapes text for HTML and SVG. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** One CSV field (RFC 4180 quoting; a leading formula character is neutralised for spreadsheets). */
function csvField(value: string | number | undefined): string {
  if (value === undefined) return ''
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

/** Rows to CSV text with a trailing newline. */
export function toCsv(rows: (string | number | undefined)[][]): string {
  return rows.map((row) => row.map(csvField).join(',')).join('\n') + '\n'
}

/** The epoch history as CSV (one row per epoch). */
export function historyCsv(history: EpochRecord[]): string {
  const header = [
    'epoch',
    'step',
    'loss',
    'accuracy',
    'val_loss',
    'val_accuracy',
    'learning_rate',
    'samples_per_second',
    'elapsed_seconds',
    'improved',
  ]
  return toCsv([
    header,
    ...history.map((h) => [
      h.epoch + 1,
      h.step,
      h.loss,
      h.accuracy,
      h.valLoss,
      h.valAccuracy,
      h.learningRate,
      h.samplesPerSecond,
      h.elapsedSeconds,
      h.improved ? 'yes' : 'no',
    ]),
  ])
}

/** Per-class precision/recall/F1/support as CSV. */
export function perClassCsv(report: EvaluationReport): string {
  return toCsv([
    ['label', 'precision', 'recall', 'f1', 'support'],
    ...report.perClass.map((c) => [c.label, c.precision, c.recall, c.f1, c.support]),
  ])
}

/** The confusion matrix as CSV: rows are actual classes, columns predicted ones. */
export function confusionCsv(report: EvaluationReport): string {
  return toCsv([
    ['actual \\ predicted', ...report.labels],
    ...report.confusion.map((row, i) => [report.labels[i] ?? String(i), ...row]),
  ])
}

function niceNumber(value: number): string {
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 1) return value.toFixed(2)
  return value.toPrecision(2)
}

/** A standalone SVG line chart (no scripts, no external resources). */
export function lineChartSvg(options: LineChartOptions): string {
  const width = options.width ?? 640
  const height = options.height ?? 360
  const margin = { top: 40, right: 20, bottom: 50, left: 64 }
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const points = options.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y))
  const xs = points.map((p) => p.x)
  const ys = points.map((p) => p.y)
  const xMin = xs.length ? Math.min(...xs) : 0
  const xMax = xs.length ? Math.max(...xs) : 1
  let [yMin, yMax] = options.yRange ?? [
    ys.length ? Math.min(...ys) : 0,
    ys.length ? Math.max(...ys) : 1,
  ]
  if (yMax === yMin) {
    yMax += 0.5
    yMin -= 0.5
  }
  const sx = (x: number): number =>
    margin.left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW)
  const sy = (y: number): number => margin.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH
  const ticks = 5
  const grid: string[] = []
  for (let i = 0; i <= ticks; i++) {
    const y = yMin + ((yMax - yMin) * i) / ticks
    const py = sy(y).toFixed(1)
    grid.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${py}" y2="${py}" stroke="#ddd"/>`,
      `<text x="${margin.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${niceNumber(y)}</text>`,
    )
  }
  const xTicks = [...new Set(xs)].sort((a, b) => a - b)
  const step = Math.max(1, Math.ceil(xTicks.length / 10))
  xTicks.forEach((x, i) => {
    if (i % step !== 0) return
    grid.push(
      `<text x="${sx(x).toFixed(1)}" y="${margin.top + plotH + 18}" text-anchor="middle">${Number.isInteger(x) ? count(x) : niceNumber(x)}</text>`,
    )
  })
  const lines = options.series.map((s) => {
    const valid = s.points.filter((p) => Number.isFinite(p.y))
    const path = valid.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')
    const dots = valid
      .map(
        (p) =>
          `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.5" fill="${s.color}"/>`,
      )
      .join('')
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${path}"/>${dots}`
  })
  const legend = options.series.map(
    (s, i) =>
      `<rect x="${margin.left + i * 150}" y="${height - 16}" width="12" height="12" fill="${s.color}"/>` +
      `<text x="${margin.left + i * 150 + 18}" y="${height - 6}">${escapeXml(s.name)}</text>`,
  )
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(options.title)}</text>`,
    ...grid,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#444"/>`,
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#444"/>`,
    `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 34}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    ...lines,
    ...legend,
    '</svg>',
    '',
  ].join('\n')
}

/** Loss per epoch (training and validation). */
export function lossChartSvg(history: EpochRecord[]): string {
  return lineChartSvg({
    title: 'Loss',
    xLabel: 'epoch',
    yLabel: 'cross-entropy loss',
    series: [
      {
        name: 'training',
        color: '#2563eb',
        points: history.map((h) => ({ x: h.epoch + 1, y: h.loss })),
      },
      {
        name: 'validation',
        color: '#dc2626',
        points: history
          .filter((h) => h.valLoss !== undefined)
          .map((h) => ({ x: h.epoch + 1, y: h.valLoss as number })),
      },
    ],
  })
}

/** Accuracy per epoch (training and validation), on [0, 1]. */
export function accuracyChartSvg(history: EpochRecord[]): string {
  return lineChartSvg({
    title: 'Accuracy',
    xLabel: 'epoch',
    yLabel: 'accuracy',
    yRange: [0, 1],
    series: [
      {
        name: 'training',
        color: '#2563eb',
        points: history.map((h) => ({ x: h.epoch + 1, y: h.accuracy })),
      },
      {
        name: 'validation',
        color: '#dc2626',
        points: history
          .filter((h) => h.valAccuracy !== undefined)
          .map((h) => ({ x: h.epoch + 1, y: h.valAccuracy as number })),
      },
    ],
  })
}

function percent(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${(value * 100).toFixed(2)}%`
}

/** A count with thousands separators. */
function count(value: number): string {
  return value.toLocaleString('en-US')
}

/** "January 2, 2025 10:00 AM UTC" (local time of the machine that exports, zone named). */
function readableDate(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  const day = date.toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric' })
  const time = date.toLocaleTimeString('en-US', {
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  })
  return `${day} ${time}`
}

/** One layer as the report lists it: its short name, plus the filters of a convolution. */
function layerText(layer: LayerSpec): string {
  return layer.type === 'conv2d'
    ? `${describeLayer(layer)}, ${count(layer.filters)} filters`
    : describeLayer(layer)
}

/** The hyperparameters a run trained with, as rows of the report. */
function settingsRows(config: TrainConfig, classes: number): [string, string][] {
  // A stored custom run carries its architecture (the contract refuses one without).
  const layers =
    config.preset === 'custom' && !config.architecture ? [] : architectureOf(config).layers
  const architecture = [...layers.map(layerText), `softmax ${count(classes)}`].join(' → ')
  const patience = config.earlyStoppingPatience
  return [
    ['Epochs requested', count(config.epochs)],
    ['Batch size', count(config.batchSize)],
    [
      'Learning rate',
      `${config.learningRate} (${LR_SCHEDULE_LABELS[config.lrSchedule].toLowerCase()})`,
    ],
    [
      'Validation split',
      config.validationSplit > 0 ? `${Math.round(config.validationSplit * 1000) / 10}%` : 'none',
    ],
    ['Augmentation', describeAugmentation(config.augmentation)],
    [
      'Early stopping',
      patience > 0
        ? `after ${count(patience)} epoch${patience === 1 ? '' : 's'} without improvement`
        : 'off',
    ],
    [
      'Weight averaging',
      config.emaDecay > 0 ? `moving average of the weights, decay ${config.emaDecay}` : 'off',
    ],
    [
      'Networks averaged',
      config.members > 1
        ? `${count(config.members)}, trained in turn with seeds ${config.seed} to ${config.seed + config.members - 1}`
        : '1',
    ],
    ['Seed', String(config.seed)],
    ['Training images', config.limit > 0 ? `at most ${count(config.limit)}` : 'all'],
    ['Backend requested', config.backend],
    ['Architecture', architecture],
  ]
}

/** Table rows; a value given as `{ html }` is already markup, anything else is escaped. */
function tableRows(rows: [string, string | { html: string }][]): string {
  return rows
    .map(
      ([k, v]) =>
        `<tr><th>${escapeXml(k)}</th><td>${typeof v === 'string' ? escapeXml(v) : v.html}</td></tr>`,
    )
    .join('\n')
}

/** A date for people, with the exact instant kept in `datetime`. */
function timeHtml(iso: string): { html: string } {
  return { html: `<time datetime="${escapeXml(iso)}">${escapeXml(readableDate(iso))}</time>` }
}

/** A self-contained HTML report: headline metrics, the charts inline, per-class table, confusion. */
export function reportHtml(
  run: Omit<RunDetail, 'active'>,
  evaluation: EvaluationReport | null,
  charts: { loss: string; accuracy: string },
): string {
  const rows: [string, string | { html: string }][] = [
    ['Run', run.name],
    ['State', run.state + (run.message ? ` (${run.message})` : '')],
    ['Dataset', run.datasetName],
    ['Preset', run.preset],
    ['Created', timeHtml(run.createdAt)],
    ...(run.finishedAt
      ? [['Finished', timeHtml(run.finishedAt)] as [string, { html: string }]]
      : []),
    ['Epochs', count(run.history.length)],
    ['Backend', run.backend ? `${run.backend.name} (${run.backend.detail})` : 'n/a'],
    [`${SPLIT_LABELS.test.title} accuracy`, percent(run.metrics?.testAccuracy)],
    ['Validation accuracy', percent(run.metrics?.valAccuracy)],
  ]
  if (evaluation) {
    rows.push(
      ['Evaluated on', evaluatedOn(evaluation)],
      ['Evaluated samples', count(evaluation.count)],
      ['Evaluation accuracy', percent(evaluation.accuracy)],
      ['Evaluation loss', evaluation.loss.toFixed(4)],
      ['Macro F1', evaluation.macroF1.toFixed(4)],
    )
  }
  const table = tableRows(rows)
  const settings = tableRows(settingsRows(run.config, run.labels.length))
  const perClass = evaluation
    ? `<h2>Per class</h2><table><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>${evaluation.perClass
        .map(
          (c) =>
            `<tr><td>${escapeXml(c.label)}</td><td>${c.precision.toFixed(4)}</td><td>${c.recall.toFixed(4)}</td><td>${c.f1.toFixed(4)}</td><td>${count(c.support)}</td></tr>`,
        )
        .join('')}</table>`
    : '<p>No evaluation was available for this run.</p>'
  const confusion = evaluation
    ? `<h2>Confusion matrix</h2><p>Rows: actual class; columns: predicted class.</p><table class="cm"><tr><th></th>${evaluation.labels
        .map((l) => `<th>${escapeXml(l)}</th>`)
        .join('')}</tr>${evaluation.confusion
        .map(
          (row, i) =>
            `<tr><th>${escapeXml(evaluation.labels[i] ?? String(i))}</th>${row
              .map((n, j) => `<td${i === j ? ' class="diag"' : ''}>${count(n)}</td>`)
              .join('')}</tr>`,
        )
        .join('')}</table>`
    : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>InkLab report: ${escapeXml(run.name)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #111; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f5f5f5; text-align: left; }
table.facts td { text-align: left; }
.cm td.diag { background: #dcfce7; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
</style>
</head>
<body>
<h1>InkLab report: ${escapeXml(run.name)}</h1>
<table class="facts">
${table}
</table>
<h2>Training settings</h2>
<table class="facts">
${settings}
</table>
<div class="charts">
${charts.loss}
${charts.accuracy}
</div>
${perClass}
${confusion}
<p>Files: metrics.json, history.csv, per-class.csv, confusion-matrix.csv, loss.svg, accuracy.svg.</p>
</body>
</html>
`
}

/** "Held-out test split of digits (images training never saw)": what an evaluation measured. */
function evaluatedOn(evaluation: EvaluationReport): string {
  const label = SPLIT_LABELS[evaluation.split ?? 'test']
  const of = evaluation.dataset ? ` of ${evaluation.dataset.name}` : ''
  return `${label.title}${evaluation.split === 'train' ? '' : ' split'}${of} (${label.meaning})`
}
