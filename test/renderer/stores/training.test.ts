import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { PRESETS } from '@shared/presets'
import { AUGMENTATION_LIMITS, type RunDetail, type TrainProgress } from '@shared/schemas'

import { smoothBatches } from '@renderer/lib/batchSmoothing'
import { useAppStore } from '@renderer/stores/app'
import { useDatasetStore } from '@renderer/stores/dataset'
import { UI_UPDATE_INTERVAL_MS, useTrainingStore } from '@renderer/stores/training'
import { makeEpoch, makeRunDetail } from '../helpers/fixtures'
import { settle, setupFake } from '../helpers/setup'

function batch(step: number, overrides: Record<string, number> = {}) {
  return {
    kind: 'batch' as const,
    epoch: 0,
    batch: step,
    batchesPerEpoch: 100,
    step,
    loss: 1 / (step + 1),
    accuracy: step / 100,
    samplesPerSecond: 2000,
    etaSeconds: 134,
    elapsedSeconds: 10,
    ...overrides,
  }
}

/**
 * The store after it restored run `run-9` as the services hold it (`detail`), the `live` progress
 * events of that run having arrived first (after a reload the event stream may win the race).
 */
async function restoredRun(detail: Partial<RunDetail>, live: TrainProgress[] = []) {
  const { fake } = setupFake({
    'training.current': () => makeRunDetail({ id: 'run-9', ...detail }),
  })
  const training = useTrainingStore()
  for (const progress of live) fake.emit('training.progress', { runId: 'run-9', progress })
  await training.restore()
  await settle()
  return training
}

describe('useTrainingStore', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('a custom preset trains the edited layers with the classic settings by default', () => {
    setupFake()
    const training = useTrainingStore()
    training.applyPreset('fast')
    training.applyPreset('custom')
    expect(training.form).toMatchObject({ preset: 'custom', ...PRESETS.classic.defaults })
    expect(training.layers).toEqual(PRESETS.classic.architecture.layers)
    training.layers.splice(1, 1)
    const layers = PRESETS.classic.architecture.layers.filter((_, i) => i !== 1)
    const request = training.buildRequest('ds-1')
    expect(request.config).toMatchObject({ preset: 'custom', architecture: { layers } })
    // A plain copy, not the store's reactive array.
    expect(request.config.architecture!.layers).not.toBe(training.layers)
    // Other presets carry no architecture, and the custom layers wait for the next time.
    training.applyPreset('classic')
    expect(training.buildRequest('ds-1').config).not.toHaveProperty('architecture')
    expect(training.layers).toEqual(layers)
  })

  it('starts a run with the form values and follows its state', async () => {
    const { fake } = setupFake({ 'training.start': () => ({ runId: 'run-7' }) })
    const training = useTrainingStore()
    training.applyPreset('fast')
    training.form.epochs = 2
    const started = training.start('ds-1')
    expect(training.state).toBe('starting')
    expect(await started).toBe(true)
    expect(training.runId).toBe('run-7')
    const [request] = fake.callsTo('training.start')
    expect(request).toMatchObject({
      datasetId: 'ds-1',
      config: {
        preset: 'fast',
        epochs: 2,
        batchSize: PRESETS.fast.defaults.batchSize,
        lrSchedule: PRESETS.fast.defaults.lrSchedule,
      },
    })

    fake.emit('training.state', { runId: 'run-7', state: 'running' })
    expect(training.isActive).toBe(true)
    fake.emit('training.state', { runId: 'run-7', state: 'paused' })
    expect(training.state).toBe('paused')
    fake.emit('training.state', {
      runId: 'run-7',
      state: 'diverged',
      message: 'loss is NaN at step 12',
    })
    expect(training.isActive).toBe(false)
    expect(training.finalMessage).toBe('Training diverged: loss is NaN at step 12')
  })

  it('fills the chart series from progress events, at most ~4 times a second', async () => {
    const { fake } = setupFake({ 'training.start': () => ({ runId: 'r' }) })
    const training = useTrainingStore()
    await training.start('ds-1')

    fake.emit('training.progress', { runId: 'r', progress: batch(0) })
    // The first event is published at once; the next ones wait for the interval.
    expect(training.charts.loss.batch).toHaveLength(1)
    for (let step = 1; step < 30; step++)
      fake.emit('training.progress', { runId: 'r', progress: batch(step) })
    expect(training.charts.loss.batch).toHaveLength(1)
    expect(training.state).toBe('running')

    vi.advanceTimersByTime(UI_UPDATE_INTERVAL_MS)
    expect(training.charts.loss.batch).toHaveLength(30)
    const smoothed = smoothBatches(Array.from({ length: 30 }, (_, step) => batch(step)))
    expect(training.charts.accuracy.batch[29]).toEqual({ x: 29, y: smoothed[29]!.accuracy })
    expect(training.stats.batch).toBe(30)
    expect(training.stats.etaSeconds).toBe(134)

    fake.emit('training.progress', { runId: 'r', progress: makeEpoch(0, { epochs: 3, step: 100 }) })
    vi.advanceTimersByTime(UI_UPDATE_INTERVAL_MS)
    expect(training.charts.loss.epoch).toEqual([{ x: 100, y: 0.5 }])
    expect(training.charts.accuracy.val).toEqual([{ x: 100, y: 0.78 }])
    expect(training.stats.bestValAccuracy).toBe(0.78)
    expect(training.stats.epoch).toBe(1)
    expect(training.stats.epochs).toBe(3)
  })

  it('plots a smoothed per-batch loss that does not restart at each epoch', async () => {
    const { fake } = setupFake({ 'training.start': () => ({ runId: 'r' }) })
    const training = useTrainingStore()
    await training.start('ds-1')
    // Every batch has loss 1 in epoch 1 and 0.98 in epoch 2 (a slow, steady fall), but the
    // trainer reports the running mean of the epoch: high at the start of epoch 1 (loss 3 then).
    const perBatch = (epoch: number, b: number) => (epoch === 0 ? (b < 2 ? 3 : 1) : 0.98)
    let step = 0
    for (const epoch of [0, 1]) {
      let sum = 0
      for (let b = 0; b < 40; b++) {
        sum += perBatch(epoch, b)
        step++
        fake.emit('training.progress', {
          runId: 'r',
          progress: batch(step, { epoch, batch: b, batchesPerEpoch: 40, loss: sum / (b + 1) }),
        })
      }
    }
    vi.advanceTimersByTime(UI_UPDATE_INTERVAL_MS)
    const loss = training.charts.loss.batch
    const at = (x: number) => loss.find((p) => p.x === x)!.y
    // The running mean of epoch 1 ends at 1.1 and epoch 2 starts at 0.98: a raw plot drops by
    // 0.12 there. The smoothed curve moves by about what the loss itself did (0.02).
    expect(Math.abs(at(40) - at(41))).toBeLessThan(0.03)
    // And it falls steadily with the loss, without a step anywhere.
    const ys = loss.map((p) => p.y)
    expect(ys.slice(1).every((y, i) => y <= ys[i]! + 1e-9)).toBe(true)
  })

  it('publishes everything pending when the run ends', async () => {
    const { fake } = setupFake({ 'training.start': () => ({ runId: 'r' }) })
    const training = useTrainingStore()
    await training.start('ds-1')
    fake.emit('training.progress', { runId: 'r', progress: batch(0) })
    fake.emit('training.progress', { runId: 'r', progress: batch(1) })
    fake.emit('training.state', { runId: 'r', state: 'completed' })
    expect(training.charts.loss.batch).toHaveLength(2)
    expect(training.finalMessage).toMatch(/completed/i)
  })

  it('ignores events of another run while its own is active', async () => {
    const { fake } = setupFake({ 'training.start': () => ({ runId: 'mine' }) })
    const training = useTrainingStore()
    await training.start('ds-1')
    fake.emit('training.state', { runId: 'mine', state: 'running' })
    fake.emit('training.progress', { runId: 'other', progress: batch(0) })
    fake.emit('training.state', { runId: 'other', state: 'failed', message: 'x' })
    expect(training.state).toBe('running')
    expect(training.charts.loss.batch).toHaveLength(0)
  })

  it('goes back to idle and shows the error when start fails', async () => {
    setupFake({
      'training.start': () => {
        throw new Error('Dataset ds-1 not found')
      },
    })
    const training = useTrainingStore()
    const app = useAppStore()
    expect(await training.start('ds-1')).toBe(false)
    expect(training.state).toBe('idle')
    expect(app.toasts[0]?.message).toContain('Dataset ds-1 not found')
  })

  it('restores a run in progress with its epoch history', async () => {
    const training = await restoredRun({ history: [makeEpoch(0), makeEpoch(1)] })
    expect(training.runId).toBe('run-9')
    expect(training.state).toBe('running')
    expect(training.charts.loss.epoch).toHaveLength(2)
    expect(training.stats.epochs).toBe(3)
    expect(training.stats.bestValAccuracy).toBeCloseTo(0.83)
  })

  it('after a reload, shows the settings of the run in progress in the form, and its dataset', async () => {
    setupFake({
      'training.current': () =>
        makeRunDetail({
          id: 'run-9',
          name: 'Nightly',
          datasetId: 'ds-2',
          config: {
            ...makeRunDetail().config,
            preset: 'fast',
            epochs: 7,
            batchSize: 64,
            learningRate: 0.01,
            lrSchedule: 'onecycle',
            seed: 5,
          },
        }),
    })
    const training = useTrainingStore()
    // The form starts with another preset's defaults, as a freshly loaded page does.
    training.applyPreset('classic')
    await training.restore()
    expect(training.form).toMatchObject({
      preset: 'fast',
      name: 'Nightly',
      epochs: 7,
      batchSize: 64,
      learningRate: 0.01,
      lrSchedule: 'onecycle',
      seed: 5,
    })
    expect(useDatasetStore().selectedId).toBe('ds-2')
  })

  it('after a reload, shows the run’s settings even when its events arrive before the answer', async () => {
    const { fake } = setupFake({
      'training.current': () =>
        makeRunDetail({
          id: 'run-9',
          datasetId: 'ds-2',
          config: { ...makeRunDetail().config, preset: 'classic', epochs: 9 },
        }),
    })
    const training = useTrainingStore()
    training.applyPreset('fast')
    // The event stream wins the race: the run is adopted from its progress first.
    fake.emit('training.progress', { runId: 'run-9', progress: batch(3) })
    expect(training.runId).toBe('run-9')
    await training.restore()
    expect(training.form).toMatchObject({ preset: 'classic', epochs: 9 })
    expect(useDatasetStore().selectedId).toBe('ds-2')
  })

  it('after a reload, shows the run that ended: its charts, how it ended, no ETA', async () => {
    const { fake } = setupFake({
      'training.current': () =>
        makeRunDetail({
          id: 'run-9',
          state: 'cancelled',
          message: 'Stopped at epoch 2.',
          history: [makeEpoch(0), makeEpoch(1)],
          batches: [{ step: 10, epoch: 0, batch: 9, loss: 1.5, accuracy: 0.4 }],
        }),
      'training.dismiss': () => ({ ok: true }),
    })
    const training = useTrainingStore()
    await training.restore()
    await settle()
    expect(training.state).toBe('cancelled')
    expect(training.finalMessage).toMatch(/Stopped at epoch 2/)
    expect(training.charts.loss.epoch).toHaveLength(2)
    expect(training.charts.loss.batch).toHaveLength(1)
    expect(training.stats.etaSeconds).toBeNull()
    // Dismissed here, it is dismissed with the services too (a reload would not bring it back).
    training.dismissRun()
    expect(fake.callsTo('training.dismiss')).toEqual([{ runId: 'run-9' }])
    expect(training.state).toBe('idle')
  })

  it('clears the ETA when a run is stopped', async () => {
    const { fake } = setupFake({ 'training.start': () => ({ runId: 'r' }) })
    const training = useTrainingStore()
    await training.start('ds-1')
    fake.emit('training.progress', { runId: 'r', progress: batch(3) })
    vi.advanceTimersByTime(UI_UPDATE_INTERVAL_MS)
    expect(training.stats.etaSeconds).toBe(134)
    fake.emit('training.state', { runId: 'r', state: 'cancelled', message: 'Stopped.' })
    expect(training.stats.etaSeconds).toBeNull()
  })

  it('restores the whole chart from the services, per-batch points included, keeping newer live points', async () => {
    // A live event for the same run lands before the answer: it is newer, so it stays.
    const training = await restoredRun(
      {
        history: [makeEpoch(0)],
        batches: [
          { step: 10, loss: 1.5, accuracy: 0.4 },
          { step: 50, loss: 0.9, accuracy: 0.7 },
          { step: 100, loss: 0.5, accuracy: 0.8 },
        ],
      },
      [batch(102)],
    )
    expect(training.charts.loss.batch.map((p) => p.x)).toEqual([10, 50, 100, 102])
    expect(training.charts.accuracy.batch[0]).toEqual({ x: 10, y: 0.4 })
    expect(training.charts.loss.epoch).toHaveLength(1)
  })

  it('after a reload, keeps a live epoch point whose step the snapshot already holds as a batch', async () => {
    // The services record an epoch's last batch before its epoch record: a snapshot taken in
    // between holds batch 200 but not epoch 2, whose live event (also at step 200) must stay.
    const training = await restoredRun(
      {
        history: [makeEpoch(0)],
        batches: [
          { step: 100, loss: 0.5, accuracy: 0.8 },
          { step: 200, loss: 0.4, accuracy: 0.85 },
        ],
      },
      [makeEpoch(1)],
    )
    expect(training.charts.loss.epoch.map((p) => p.x)).toEqual([100, 200])
    expect(training.charts.accuracy.val.map((p) => p.x)).toEqual([100, 200])
    expect(training.charts.loss.batch.map((p) => p.x)).toEqual([100, 200])
    expect(training.stats.epoch).toBe(2)
  })

  it('pause and resume call the routes and update the state', async () => {
    const { fake } = setupFake({
      'training.start': () => ({ runId: 'r' }),
      'training.pause': () => ({ ok: true }),
      'training.resume': () => ({ ok: true }),
      'training.stop': () => ({ ok: true }),
    })
    const training = useTrainingStore()
    await training.start('ds-1')
    fake.emit('training.state', { runId: 'r', state: 'running' })
    await training.pause()
    expect(training.state).toBe('paused')
    await training.resume()
    expect(training.state).toBe('running')
    await training.stop()
    expect(fake.callsTo('training.stop')).toEqual([{ runId: 'r' }])
  })

  it('a refused stop shows the final state the services report for the run', async () => {
    const { fake } = setupFake({
      'training.start': () => ({ runId: 'r' }),
      'training.stop': () => ({ ok: false }),
      'runs.get': ({ runId }) => makeRunDetail({ id: runId, state: 'completed' }),
    })
    const training = useTrainingStore()
    await training.start('ds-1')
    fake.emit('training.state', { runId: 'r', state: 'running' })
    await training.stop()
    expect(fake.callsTo('runs.get')).toEqual([{ runId: 'r' }])
    expect(training.state).toBe('completed')
    expect(training.isActive).toBe(false)
    expect(training.finalMessage).toMatch(/completed/i)
  })

  it('a refused pause of a run that is still active says so', async () => {
    const { fake } = setupFake({
      'training.start': () => ({ runId: 'r' }),
      'training.pause': () => ({ ok: false }),
      'runs.get': ({ runId }) => makeRunDetail({ id: runId, state: 'starting' }),
    })
    const training = useTrainingStore()
    const app = useAppStore()
    await training.start('ds-1')
    fake.emit('training.state', { runId: 'r', state: 'running' })
    await training.pause()
    expect(training.state).toBe('starting')
    expect(app.toasts.at(-1)).toMatchObject({
      kind: 'error',
      message: 'Could not pause training: the run is starting.',
    })
  })

  it('after the event stream reconnects, shows the end of a run whose final event was missed', async () => {
    const { fake } = setupFake({
      'training.start': () => ({ runId: 'r' }),
      'runs.get': ({ runId }) =>
        makeRunDetail({ id: runId, state: 'failed', message: 'out of memory' }),
    })
    const training = useTrainingStore()
    await training.start('ds-1')
    fake.emit('training.state', { runId: 'r', state: 'running' })
    fake.reconnect()
    await settle()
    expect(fake.callsTo('training.current')).toHaveLength(1)
    expect(training.state).toBe('failed')
    expect(training.finalMessage).toBe('Training failed: out of memory')
  })

  it('names an augmentation range in its error as its slider does, with the contract bounds', async () => {
    setupFake({ 'training.start': () => ({ runId: 'r' }) })
    const training = useTrainingStore()
    training.form.augmentation.enabled = true
    training.form.augmentation.thickness = AUGMENTATION_LIMITS.thickness.max + 1
    training.form.augmentation.zoom = AUGMENTATION_LIMITS.zoom.max + 1
    expect(await training.start('ds-1')).toBe(false)
    expect(training.formErrors['augmentation.thickness']).toBe(
      `Stroke must be between ${AUGMENTATION_LIMITS.thickness.min} and ${AUGMENTATION_LIMITS.thickness.max} pixels.`,
    )
    expect(training.formErrors['augmentation.zoom']).toMatch(/^Zoom must be between 0 and \d+%\.$/)
  })

  it('a start refused by the form check keeps the previous run on screen', async () => {
    const { fake } = setupFake({ 'training.start': () => ({ runId: 'r' }) })
    const training = useTrainingStore()
    await training.start('ds-1')
    fake.emit('training.progress', { runId: 'r', progress: batch(0) })
    fake.emit('training.state', { runId: 'r', state: 'completed' })
    expect(training.charts.loss.batch).toHaveLength(1)

    // What v-model.number leaves in an emptied field.
    training.form.batchSize = '' as unknown as number
    expect(await training.start('ds-1')).toBe(false)
    expect(fake.callsTo('training.start')).toHaveLength(1)
    expect(training.formErrors).toEqual({
      batchSize: 'Batch size must be a whole number between 1 and 4096.',
    })
    expect(training.state).toBe('completed')
    expect(training.runId).toBe('r')
    expect(training.charts.loss.batch).toHaveLength(1)
    expect(training.finalMessage).toMatch(/completed/i)
  })
})
