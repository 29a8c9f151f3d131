import { describe, expect, it } from 'vitest'

import { PRESETS } from '@shared/presets'
import type { RunSummary } from '@shared/schemas'
import {
  estimateTraining,
  forwardMacs,
  latestMeasuredSpeed,
  secondsPerImage,
} from '@shared/trainEstimate'

const MNIST = { classes: 10, trainImages: 60_000 }

describe('forwardMacs', () => {
  it('counts the multiply-accumulates of convolutions and dense layers', () => {
    // fast: 5x5x1x16 at 14x14, 3x3x16x32 at 7x7, dense 1568x64, output 64x10.
    expect(forwardMacs(PRESETS.fast.architecture, 10)).toBe(
      25 * 16 * 196 + 9 * 16 * 32 * 49 + 1568 * 64 + 640,
    )
    // classic: 3x3x1x32 at 26x26, 3x3x32x64 at 11x11, output 1600x10.
    expect(forwardMacs(PRESETS.classic.architecture, 10)).toBe(
      9 * 32 * 676 + 9 * 32 * 64 * 121 + 16_000,
    )
    expect(forwardMacs({ layers: [{ type: 'flatten' }, { type: 'flatten' }] }, 10)).toBe(0)
  })
})

describe('estimateTraining', () => {
  it('reproduces the measured WebAssembly speeds of the presets within 10%', () => {
    const speed = (preset: keyof typeof PRESETS) =>
      1 / secondsPerImage(forwardMacs(PRESETS[preset].architecture, 10), 'wasm')
    // README: fast 1,560, classic 589, accurate about 110 samples/s on full MNIST.
    expect(speed('fast') / 1560).toBeCloseTo(1, 1)
    expect(speed('classic') / 589).toBeCloseTo(1, 1)
    expect(Math.abs(speed('accurate') / 110 - 1)).toBeLessThan(0.15)
  })

  it('says how long a preset takes on MNIST: fast in about two minutes, classic far longer', () => {
    const of = (preset: 'fast' | 'classic') =>
      estimateTraining({
        ...MNIST,
        architecture: PRESETS[preset].architecture,
        ...PRESETS[preset].defaults,
        backend: 'wasm',
      })!
    const fast = of('fast')
    // README: 114 s for 3 epochs.
    expect(fast.seconds).toBeGreaterThan(90)
    expect(fast.seconds).toBeLessThan(140)
    expect(fast.upTo).toBe(false)
    expect(of('classic').seconds).toBeGreaterThan(10 * fast.seconds)
  })

  it('grows with the dataset and the epochs, shrinks on a faster backend', () => {
    const base = {
      ...MNIST,
      architecture: PRESETS.fast.architecture,
      epochs: 3,
      validationSplit: 0.1,
      earlyStoppingPatience: 0,
      backend: 'wasm' as const,
    }
    const seconds = estimateTraining(base)!.seconds
    expect(estimateTraining({ ...base, epochs: 6 })!.seconds).toBeCloseTo(2 * seconds)
    expect(estimateTraining({ ...base, trainImages: 30_000 })!.seconds).toBeCloseTo(seconds / 2)
    expect(estimateTraining({ ...base, backend: 'native' })!.seconds).toBeLessThan(seconds)
    expect(estimateTraining({ ...base, backend: 'cpu' })!.seconds).toBeGreaterThan(100 * seconds)
    expect(estimateTraining({ ...base, trainImages: 0 })).toBeNull()
  })

  it('says "up to" when early stopping may end the run sooner', () => {
    const robust = estimateTraining({
      classes: 10,
      trainImages: 3_000,
      architecture: PRESETS.robust.architecture,
      ...PRESETS.robust.defaults,
      backend: 'wasm',
    })!
    expect(robust.upTo).toBe(true)
  })

  it('is rescaled by a run measured on this machine', () => {
    const macs = forwardMacs(PRESETS.classic.architecture, 10)
    const formula = 1 / secondsPerImage(macs, 'wasm')
    const input = {
      ...MNIST,
      architecture: PRESETS.fast.architecture,
      ...PRESETS.fast.defaults,
      backend: 'wasm' as const,
    }
    const plain = estimateTraining(input)!
    // A classic run here went at half the speed the formula gives: the fast run will too.
    const slower = estimateTraining({
      ...input,
      measured: { macs, samplesPerSecond: formula / 2 },
    })!
    expect(slower.calibrated).toBe(true)
    expect(slower.seconds).toBeCloseTo(2 * plain.seconds)
  })
})

describe('latestMeasuredSpeed', () => {
  const run = (over: Partial<RunSummary>): RunSummary => ({
    id: 'r',
    name: 'r',
    state: 'completed',
    datasetId: 'd',
    datasetName: 'd',
    preset: 'fast',
    createdAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
    hasModel: true,
    builtin: false,
    active: false,
    metrics: { samplesPerSecond: 1000 },
    backend: { name: 'wasm', requested: 'auto', tfjsBackend: 'wasm', detail: 'wasm' },
    ...over,
  })

  it('takes the latest run finished on the backend, never the bundled model', () => {
    const runs = [
      run({ id: 'old', metrics: { samplesPerSecond: 500 } }),
      run({
        id: 'new',
        preset: 'classic',
        finishedAt: '2026-01-02T00:00:00.000Z',
        metrics: { samplesPerSecond: 300 },
      }),
      run({ id: 'bundled', builtin: true, finishedAt: '2026-02-01T00:00:00.000Z' }),
      run({
        id: 'native',
        finishedAt: '2026-03-01T00:00:00.000Z',
        backend: { name: 'native', requested: 'auto', tfjsBackend: 'tensorflow', detail: '' },
      }),
    ]
    expect(latestMeasuredSpeed(runs, 'wasm', 10)).toEqual({
      macs: forwardMacs(PRESETS.classic.architecture, 10),
      samplesPerSecond: 300,
    })
    expect(latestMeasuredSpeed(runs, 'cpu', 10)).toBeNull()
  })
})
