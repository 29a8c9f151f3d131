import { describe, expect, it } from 'vitest'

import type { SampleImage } from '@shared/schemas'

import { useEvaluationStore } from '@renderer/stores/evaluation'
import { makeReport, makeRun, makeSample } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

describe('useEvaluationStore', () => {
  it('shows the last evaluation the services kept when a run is chosen (after a reload)', async () => {
    const saved = makeReport({ accuracy: 0.875 })
    const { fake } = setupFake({
      'evaluation.last': ({ runId }) => (runId === 'run-1' ? saved : null),
      'evaluation.samples': () => [],
    })
    const evaluation = useEvaluationStore()
    evaluation.selectRun('run-1')
    await settle()
    expect(evaluation.report?.accuracy).toBe(0.875)
    expect(fake.callsTo('evaluation.run')).toEqual([])
    evaluation.selectRun('run-2')
    await settle()
    expect(evaluation.report).toBeNull()
  })

  it('opening an empty cell cancels a slow request for the previous cell', async () => {
    const pending: ((s: SampleImage[]) => void)[] = []
    setupFake({
      'runs.list': () => [makeRun()],
      'evaluation.run': () => makeReport(),
      'evaluation.samples': () => new Promise<SampleImage[]>((resolve) => pending.push(resolve)),
    })
    const evaluation = useEvaluationStore()
    await evaluation.evaluate('run-1')
    await settle()
    pending.shift()!([]) // the misclassified gallery

    void evaluation.openCell(2, 0)
    await settle()
    expect(evaluation.cellLoading).toBe(true)

    // Actual cat -> predicted eel holds no sample.
    await evaluation.openCell(0, 2)
    expect(evaluation.cell).toEqual({ actual: 0, predicted: 2, count: 0 })
    expect(evaluation.cellLoading).toBe(false)

    pending.shift()!([makeSample(9, 2)])
    await settle()
    expect(evaluation.cellSamples).toEqual([])
    expect(evaluation.cellLoading).toBe(false)
  })
})
