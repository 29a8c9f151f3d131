import type { EvaluationReport } from '@shared/schemas/evaluation'
import type { RunDetail } from '@shared/schemas/run'
import { TrainConfigSchema } from '@shared/schemas/training'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { lossChartSvg, reportHtml } from '../../../src/main/services/report'

const CREATED = '2025-01-02T10:00:00.000Z'
const FINISHED = '2025-01-02T10:05:30.000Z'

function run(overrides: Partial<Omit<RunDetail, 'active'>> = {}): Omit<RunDetail, 'active'> {
  return {
    id: 'run-1',
    name: 'Digits <fast>',
    state: 'completed',
    datasetId: 'ds-1',
    datasetName: 'digits',
    preset: 'fast',
    createdAt: CREATED,
    finishedAt: FINISHED,
    hasModel: true,
    builtin: false,
    metrics: { testAccuracy: 0.98, epochs: 3, seconds: 330, samplesPerSecond: 1200 },
    config: TrainConfigSchema.parse({
      preset: 'fast',
      epochs: 3,
      batchSize: 128,
      learningRate: 0.01,
      lrSchedule: 'onecycle',
      validationSplit: 0.05,
      augmentation: { enabled: true, rotation: 8, zoom: 0.08, shift: 1.5 },
      earlyStoppingPatience: 2,
      emaDecay: 0.999,
      members: 3,
      seed: 7,
      limit: 12_000,
      architecture: {
        layers: [
          { type: 'conv2d', filters: 32, kernelSize: 3, strides: 2, padding: 'same' },
          { type: 'flatten' },
          { type: 'dense', units: 64 },
        ],
      },
    }),
    history: [],
    labels: ['0', '1'],
    ...overrides,
  }
}

const evaluation: EvaluationReport = {
  split: 'test',
  accuracy: 0.98,
  loss: 0.07,
  count: 12_345,
  labels: ['0', '1'],
  confusion: [
    [6_100, 20],
    [227, 5_998],
  ],
  perClass: [
    { label: '0', precision: 0.96, recall: 0.99, f1: 0.98, support: 6_120 },
    { label: '1', precision: 0.99, recall: 0.96, f1: 0.98, support: 6_225 },
  ],
  macroF1: 0.98,
  misclassified: [],
  predictions: [],
}

/** The visible text of a table row whose header is `name`. */
function row(html: string, name: string): string | undefined {
  const match = new RegExp(`<tr><th>${name}</th><td>(.*?)</td></tr>`).exec(html)
  return match?.[1]?.replace(/<[^>]+>/g, '')
}

describe('reportHtml', () => {
  // Dates are written in the exporting machine's zone: pin it so the text is known.
  const zone = process.env.TZ
  let html = ''
  beforeAll(() => {
    process.env.TZ = 'UTC'
    html = reportHtml(run(), evaluation, { loss: '<svg/>', accuracy: '<svg/>' })
  })
  afterAll(() => {
    if (zone === undefined) delete process.env.TZ
    else process.env.TZ = zone
  })

  it('writes dates for people, keeping the exact time machine-readable', () => {
    expect(html).not.toMatch(/>[^<]*2025-01-02T10:00/)
    expect(row(html, 'Created')).toBe('January 2, 2025 10:00 AM UTC')
    expect(row(html, 'Finished')).toBe('January 2, 2025 10:05 AM UTC')
    expect(html).toContain(`<time datetime="${CREATED}">`)
  })

  it('lists the hyperparameters the run trained with', () => {
    expect(row(html, 'Epochs requested')).toBe('3')
    expect(row(html, 'Batch size')).toBe('128')
    expect(row(html, 'Learning rate')).toBe('0.01 (one-cycle)')
    expect(row(html, 'Validation split')).toBe('5%')
    expect(row(html, 'Augmentation')).toBe('rotation ±8°, zoom ±8%, shift ±1.5 px')
    expect(row(html, 'Early stopping')).toBe('after 2 epochs without improvement')
    expect(row(html, 'Weight averaging')).toBe('moving average of the weights, decay 0.999')
    expect(row(html, 'Networks averaged')).toBe('3, trained in turn with seeds 7 to 9')
    expect(row(html, 'Seed')).toBe('7')
    expect(row(html, 'Training images')).toBe('at most 12,000')
    expect(row(html, 'Architecture')).toBe(
      'conv2d 3x3 stride 2, 32 filters → flatten → dense 64 → softmax 2',
    )
  })

  it('says "off" for what the run did not use, and escapes names', () => {
    const plain = reportHtml(
      run({
        config: TrainConfigSchema.parse({ epochs: 1, batchSize: 8, learningRate: 0.001 }),
      }),
      null,
      { loss: '', accuracy: '' },
    )
    expect(row(plain, 'Augmentation')).toBe('off')
    expect(row(plain, 'Early stopping')).toBe('off')
    expect(row(plain, 'Weight averaging')).toBe('off')
    expect(row(plain, 'Networks averaged')).toBe('1')
    expect(row(plain, 'Training images')).toBe('all')
    expect(row(plain, 'Learning rate')).toBe('0.001 (constant)')
    // No architecture of its own: its preset's (classic) is listed.
    expect(row(plain, 'Architecture')).toMatch(/^conv2d 3x3, 32 filters → .* → softmax 2$/)
    expect(plain).toContain('Digits &lt;fast&gt;')
  })

  it('writes counts with thousands separators', () => {
    expect(row(html, 'Evaluated samples')).toBe('12,345')
    expect(html).toContain('<td class="diag">6,100</td>')
    expect(html).toContain('<td>6,225</td>')
  })

  it('says which split of which dataset the evaluation measured', () => {
    expect(row(html, 'Evaluated on')).toBe('Held-out test split (images training never saw)')
    const other = reportHtml(
      run(),
      { ...evaluation, split: 'validation', dataset: { id: 'd', name: 'Ink <2>' } },
      { loss: '', accuracy: '' },
    )
    expect(other).toContain('Validation split of Ink &lt;2&gt; (held out of training')
    expect(row(other, 'Held-out test accuracy')).toBeDefined()
  })
})

describe('lossChartSvg', () => {
  it('labels the epoch axis with whole epochs ("2", not "2.00")', () => {
    const epoch = (e: number) => ({
      kind: 'epoch' as const,
      epoch: e,
      epochs: 2,
      step: (e + 1) * 10,
      loss: 1 / (e + 1),
      accuracy: 0.5,
      learningRate: 0.001,
      samplesPerSecond: 10,
      etaSeconds: 0,
      elapsedSeconds: 1,
      improved: true,
    })
    const svg = lossChartSvg([epoch(0), epoch(1)])
    const xLabels = [...svg.matchAll(/<text [^>]*text-anchor="middle">([^<]*)<\/text>/g)].map(
      (m) => m[1],
    )
    expect(xLabels).toEqual(expect.arrayContaining(['1', '2', 'epoch']))
    expect(xLabels).not.toContain('1.00')
    expect(xLabels).not.toContain('2.00')
  })
})
