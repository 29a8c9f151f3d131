import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { useTestBackend } from '../../helpers/backend'
import { loadModel } from '@engine/io/modelFiles'
import { benchmarkRealInk, measurePadLatency, scoreByWriter } from '@engine/realInk/benchmark'
import {
  INK_SETS,
  isHeldOutPenWriter,
  samplesOfSet,
  subsetPerWriter,
  writersOf,
} from '@engine/realInk/sets'
import { findSharedDatasets, loadPendigits, type PenSample } from '@engine/realInk/trajectories'
import type * as tf from '@tensorflow/tfjs'

const PROJECT_ROOT = resolve(__dirname, '../../../..')
const BUNDLED_MODEL = resolve(PROJECT_ROOT, 'resources/models/mnist')
/** The CI floor: the bundled model must read this share of held-out pen digits, drawn and scanned. */
const FLOOR = 0.95

const sample = (writer: string, label: string, id: number): PenSample => ({
  id,
  label,
  writer,
  strokes: [[{ x: 0, y: 0 }]],
})

describe('scoreByWriter', () => {
  it('scores each writer on its own and all together, writers in natural order', () => {
    const samples = [sample('p:10', '1', 0), sample('p:2', '1', 1), sample('p:2', '0', 2)]
    const { writers, total } = scoreByWriter(samples, [1, 1, 1], ['0', '1'])
    expect(writers).toEqual([
      { writer: 'p:2', count: 2, correct: 1, accuracy: 0.5 },
      { writer: 'p:10', count: 1, correct: 1, accuracy: 1 },
    ])
    expect(total).toEqual({ writer: 'all', count: 3, correct: 2, accuracy: 2 / 3 })
  })
})

describe('held-out pen writers', () => {
  it('are writers 3, 6, ... 30: never the writers the bundled model may train on', () => {
    expect(isHeldOutPenWriter('pendigits:3')).toBe(true)
    expect(isHeldOutPenWriter('pendigits:30')).toBe(true)
    expect(isHeldOutPenWriter('pendigits:4')).toBe(false)
    expect(isHeldOutPenWriter('ujipenchars:w03')).toBe(false)
  })
})

// The real-ink floor on a fixed subset: 50 digits from each of the 10 held-out pendigits writers.
describe('real-ink benchmark (CI subset)', () => {
  let model: tf.LayersModel
  let labels: string[]
  let subset: PenSample[]

  beforeAll(async () => {
    await useTestBackend()
    const loaded = await loadModel(BUNDLED_MODEL)
    model = loaded.model
    labels = loaded.metadata.labels
    const all = samplesOfSet(await loadPendigits(findSharedDatasets(PROJECT_ROOT)), INK_SETS.digits)
    subset = subsetPerWriter(
      all.filter((s) => isHeldOutPenWriter(s.writer)),
      50,
    )
  })
  afterAll(() => model?.dispose())

  it(`the bundled model reads >= ${FLOOR * 100}% of 500 held-out pen digits, drawn and scanned`, async () => {
    expect(subset).toHaveLength(500)
    expect(writersOf(subset)).toHaveLength(10)
    const results = await benchmarkRealInk({
      model,
      labels,
      samples: subset,
      renderings: ['pad', 'scan'],
      seed: 7,
    })
    for (const r of results) {
      expect(r.writers.map((w) => w.count)).toEqual(new Array(10).fill(50))
      expect(
        r.total.accuracy,
        `${r.rendering}: ${r.total.correct}/${r.total.count}`,
      ).toBeGreaterThanOrEqual(FLOOR)
    }
  })

  it('is deterministic: the same seed gives the same per-writer figures', async () => {
    const few = subsetPerWriter(subset, 5)
    const run = () =>
      benchmarkRealInk({ model, labels, samples: few, renderings: ['scan'], seed: 3 })
    expect(await run()).toEqual(await run())
  })

  it('times the pad path drawing by drawing (figures only; the goal lives in the benchmark)', () => {
    const latency = measurePadLatency(model, labels, subset.slice(0, 5), 7)
    expect(latency.count).toBe(5)
    expect(latency.medianMs).toBeGreaterThan(0)
    expect(latency.p95Ms).toBeGreaterThanOrEqual(latency.medianMs)
  })
})
