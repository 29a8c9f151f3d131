import {
  TrainRequestSchema,
  type EventPayload,
  type FineTuneRequest,
  type TrainRequest,
} from '@shared/contract'
import { defaultPresetFor } from '@shared/presets'
import {
  AUGMENTATION_LIMITS,
  TRAIN_DEFAULTS,
  TRAIN_LIMITS,
  type Augmentation,
  type BackendInfo,
  type DatasetSource,
  type EpochRecord,
  type LayerSpec,
  type Limit,
  type LrSchedule,
  type PresetName,
  type RunDetail,
  type RunState,
  type TrainProgress,
} from '@shared/schemas'
import {
  AUGMENTATION_NAMES,
  CUSTOM_DEFAULTS_FROM,
  presetDefaults,
  totalEpochs,
  type AugmentationRange,
} from '@shared/trainConfig'
import { defineStore } from 'pinia'
import { computed, reactive, ref, shallowRef } from 'vue'

import { createTrainingClient } from '@renderer/api/training'
import { copyLayers, presetLayers } from '@renderer/lib/architecture'
import { createBatchSmoother, type BatchReport } from '@renderer/lib/batchSmoothing'
import { finalStateMessage, isActiveState, runStateLabel } from '@renderer/lib/runState'
import { throttle } from '@renderer/lib/throttle'
import { useAppStore } from './app'
import { useDatasetStore } from './dataset'

/** Charts and stat tiles refresh at most this often (~4/s), whatever the event rate. */
export const UI_UPDATE_INTERVAL_MS = 250

export interface ChartPoint {
  x: number
  y: number
}

/**
 * One metric over the run: per batch (train, smoothed across epochs), per epoch (train) and per
 * epoch (validation).
 */
export interface MetricSeries {
  batch: ChartPoint[]
  epoch: ChartPoint[]
  val: ChartPoint[]
}

export interface TrainingCharts {
  loss: MetricSeries
  accuracy: MetricSeries
}

export interface TrainingStats {
  /** 1-based epoch in progress (or last finished). */
  epoch: number
  epochs: number
  /** 1-based batch within the epoch. */
  batch: number
  batchesPerEpoch: number
  samplesPerSecond: number | null
  etaSeconds: number | null
  elapsedSeconds: number | null
  loss: number | null
  accuracy: number | null
  learningRate: number | null
  bestValAccuracy: number | null
}

/**
 * The training form; fields the user leaves alone keep their preset value. A `custom` preset trains
 * the store's `layers` with the classic preset's settings as defaults.
 */
export interface TrainForm {
  preset: PresetName
  name: string
  epochs: number
  batchSize: number
  learningRate: number
  lrSchedule: LrSchedule
  validationSplit: number
  augmentation: Augmentation
  earlyStoppingPatience: number
  emaDecay: number
  members: number
  seed: number
}

/** What a field within `limit` accepts, as the form says it ("a whole number between 1 and 1000"). */
export function limitRule(limit: Limit, unit?: { scale?: number; suffix: string }): string {
  const scale = unit?.scale ?? 1
  const show = (n: number): string => `${+(n * scale).toPrecision(6)}`
  const range = `between ${show(limit.min)} and ${show(limit.max)}${unit?.suffix ?? ''}`
  return unit ? range : `${limit.int ? 'a whole number' : 'a number'} ${range}`
}

/** The augmentation sliders' rules, labelled by the names the sliders show. */
function augmentationFieldRules(): Record<string, { label: string; rule: string }> {
  const units: Record<AugmentationRange, Parameters<typeof limitRule>[1]> = {
    rotation: { suffix: ' degrees' },
    zoom: { scale: 100, suffix: '%' },
    shift: { suffix: ' pixels' },
    shear: { suffix: ' degrees' },
    thickness: { suffix: ' pixels' },
    elastic: { suffix: ' pixels' },
  }
  return Object.fromEntries(
    (Object.keys(units) as AugmentationRange[]).map((key) => {
      const name = AUGMENTATION_NAMES[key]
      const label = name.charAt(0).toUpperCase() + name.slice(1)
      return [
        `augmentation.${key}`,
        { label, rule: limitRule(AUGMENTATION_LIMITS[key], units[key]) },
      ]
    }),
  )
}

/**
 * What the form's fields accept, by request path (under `config`), with the label the form shows.
 * The bounds are the contract's (`TRAIN_LIMITS`, `AUGMENTATION_LIMITS`).
 */
const FIELD_RULES: Record<string, { label: string; rule: string }> = {
  name: { label: 'Run name', rule: 'at most 100 characters' },
  epochs: { label: 'Epochs', rule: limitRule(TRAIN_LIMITS.epochs) },
  batchSize: { label: 'Batch size', rule: limitRule(TRAIN_LIMITS.batchSize) },
  learningRate: { label: 'Learning rate', rule: limitRule(TRAIN_LIMITS.learningRate) },
  validationSplit: { label: 'Validation split', rule: limitRule(TRAIN_LIMITS.validationSplit) },
  earlyStoppingPatience: {
    label: 'Early stopping',
    rule: limitRule(TRAIN_LIMITS.earlyStoppingPatience, { suffix: ' epochs' }),
  },
  emaDecay: { label: 'Weight averaging', rule: limitRule(TRAIN_LIMITS.emaDecay) },
  members: { label: 'Networks averaged', rule: limitRule(TRAIN_LIMITS.members) },
  seed: { label: 'Seed', rule: limitRule(TRAIN_LIMITS.seed) },
  ...augmentationFieldRules(),
}

/** Invalid form fields, by path (`epochs`, `augmentation.zoom`…), with the sentence to show. */
export type FormErrors = Record<string, string>

/** The request's problems as sentences that name each field by its form label. */
export function formErrorsOf(request: TrainRequest): FormErrors {
  const parsed = TrainRequestSchema.safeParse(request)
  if (parsed.success) return {}
  const errors: FormErrors = {}
  for (const issue of parsed.error.issues) {
    const path = issue.path.map(String)
    const field = (path[0] === 'config' ? path.slice(1) : path).join('.')
    if (errors[field]) continue
    const known = FIELD_RULES[field]
    errors[field] = known ? `${known.label} must be ${known.rule}.` : `${field}: ${issue.message}`
  }
  return errors
}

/** The form a run's resolved settings fill (the layers of a custom run go to the store). */
function formForConfig(config: RunDetail['config'], name: string): TrainForm {
  return {
    preset: config.preset,
    name,
    seed: config.seed,
    epochs: config.epochs,
    batchSize: config.batchSize,
    learningRate: config.learningRate,
    lrSchedule: config.lrSchedule,
    validationSplit: config.validationSplit,
    augmentation: { ...config.augmentation },
    earlyStoppingPatience: config.earlyStoppingPatience,
    emaDecay: config.emaDecay,
    members: config.members,
  }
}

function formForPreset(preset: TrainForm['preset'], keep?: Pick<TrainForm, 'name' | 'seed'>) {
  const d = presetDefaults(preset)
  return {
    preset,
    name: keep?.name ?? '',
    seed: keep?.seed ?? TRAIN_DEFAULTS.seed,
    epochs: d.epochs,
    batchSize: d.batchSize,
    learningRate: d.learningRate,
    lrSchedule: d.lrSchedule,
    validationSplit: d.validationSplit,
    augmentation: { ...d.augmentation },
    earlyStoppingPatience: d.earlyStoppingPatience,
    emaDecay: d.emaDecay,
    members: d.members,
  } satisfies TrainForm
}

function emptyCharts(): TrainingCharts {
  return {
    loss: { batch: [], epoch: [], val: [] },
    accuracy: { batch: [], epoch: [], val: [] },
  }
}

function emptyStats(epochs = 0): TrainingStats {
  return {
    epoch: 0,
    epochs,
    batch: 0,
    batchesPerEpoch: 0,
    samplesPerSecond: null,
    etaSeconds: null,
    elapsedSeconds: null,
    loss: null,
    accuracy: null,
    learningRate: null,
    bestValAccuracy: null,
  }
}

function copyCharts(c: TrainingCharts): TrainingCharts {
  const copy = (s: MetricSeries): MetricSeries => ({
    batch: s.batch.slice(),
    epoch: s.epoch.slice(),
    val: s.val.slice(),
  })
  return { loss: copy(c.loss), accuracy: copy(c.accuracy) }
}

/**
 * The training run on screen: the form, the run's state, and its live charts and stats.
 * Events land in plain buffers; a throttle publishes them to the `shallowRef`s ~4 times a second.
 */
export const useTrainingStore = defineStore('training', () => {
  const client = createTrainingClient()
  const app = useAppStore()

  const form = reactive<TrainForm>(formForPreset(defaultPresetFor({ kind: 'builtin' })))
  /** The custom architecture's hidden layers; kept while another preset is chosen. */
  const layers = ref<LayerSpec[]>(presetLayers(CUSTOM_DEFAULTS_FROM))
  const runId = ref<string | null>(null)
  const runName = ref<string | null>(null)
  const state = ref<RunState | 'idle'>('idle')
  const finalMessage = ref<string | null>(null)
  /** The run on screen left a loadable model (known once it ended). */
  const runHasModel = ref(false)
  /** Problems with the form found by the last Start (kept current while the user fixes them). */
  const formErrors = ref<FormErrors>({})
  const requesting = ref(false)
  const restoring = ref(false)
  const runBackend = ref<BackendInfo | null>(null)
  const charts = shallowRef<TrainingCharts>(emptyCharts())
  const stats = shallowRef<TrainingStats>(emptyStats())

  // Not reactive on purpose: written on every event, published by the throttle.
  let buffer = emptyCharts()
  let latest = emptyStats()
  /** The batch reports as they came (the per-batch series is their smoothed form). */
  let batchReports: BatchReport[] = []
  const smoother = createBatchSmoother()

  const publish = throttle(() => {
    charts.value = copyCharts(buffer)
    stats.value = { ...latest }
  }, UI_UPDATE_INTERVAL_MS)

  const isActive = computed(() => isActiveState(state.value))
  const statusText = computed(() => {
    const label = runStateLabel(state.value)
    if (!isActive.value || !stats.value.epochs) return label
    return `${label} · epoch ${Math.max(1, stats.value.epoch)}/${stats.value.epochs}`
  })

  function reset(epochs = 0): void {
    publish.cancel()
    buffer = emptyCharts()
    latest = emptyStats(epochs)
    batchReports = []
    smoother.reset()
    charts.value = emptyCharts()
    stats.value = emptyStats(epochs)
    finalMessage.value = null
    runHasModel.value = false
    runBackend.value = null
  }

  /** True when an event of `id` belongs on screen; adopts a run we did not start (another window). */
  function accept(id: string): boolean {
    if (runId.value === id) return true
    if (runId.value !== null && isActiveState(state.value)) return false
    if (runId.value !== null) reset()
    runId.value = id
    return true
  }

  function addBatch(report: BatchReport): void {
    batchReports.push(report)
    const point = smoother.add(report)
    buffer.loss.batch.push({ x: point.step, y: point.loss })
    buffer.accuracy.batch.push({ x: point.step, y: point.accuracy })
  }

  function addEpoch(p: EpochRecord): void {
    buffer.loss.epoch.push({ x: p.step, y: p.loss })
    buffer.accuracy.epoch.push({ x: p.step, y: p.accuracy })
    if (p.valLoss !== undefined) buffer.loss.val.push({ x: p.step, y: p.valLoss })
    if (p.valAccuracy !== undefined) {
      buffer.accuracy.val.push({ x: p.step, y: p.valAccuracy })
      latest.bestValAccuracy = Math.max(latest.bestValAccuracy ?? 0, p.valAccuracy)
    }
    latest.epoch = p.epoch + 1
    latest.epochs = p.epochs
    latest.batch = latest.batchesPerEpoch
    latest.loss = p.loss
    latest.accuracy = p.accuracy
    latest.learningRate = p.learningRate
    latest.samplesPerSecond = p.samplesPerSecond
    latest.etaSeconds = p.etaSeconds
    latest.elapsedSeconds = p.elapsedSeconds
  }

  function onProgress(event: EventPayload<'training.progress'>): void {
    if (!accept(event.runId)) return
    const p: TrainProgress = event.progress
    if (p.kind === 'batch') {
      addBatch(p)
      latest.epoch = p.epoch + 1
      latest.batch = Math.min(p.batch + 1, p.batchesPerEpoch)
      latest.batchesPerEpoch = p.batchesPerEpoch
      latest.loss = p.loss
      latest.accuracy = p.accuracy
      latest.samplesPerSecond = p.samplesPerSecond
      latest.etaSeconds = p.etaSeconds
      latest.elapsedSeconds = p.elapsedSeconds
    } else {
      addEpoch(p)
    }
    if (state.value === 'starting' || state.value === 'idle') state.value = 'running'
    publish()
  }

  function applyState(next: RunState, message?: string, hasModel?: boolean): void {
    state.value = next
    if (hasModel !== undefined) runHasModel.value = hasModel
    if (isActiveState(next)) {
      finalMessage.value = null
    } else {
      finalMessage.value = finalStateMessage(next, message)
      // Nothing is left to wait for, however the run ended.
      latest.etaSeconds = null
      publish()
      publish.flush()
    }
  }

  function onState(event: EventPayload<'training.state'>): void {
    if (!accept(event.runId)) return
    applyState(event.state, event.message, event.hasModel)
  }

  /**
   * Asks the services for the state of our run and shows it: its final event may have been missed.
   * Returns the state, or null when another run is on screen by the time the answer arrives.
   */
  async function syncRun(id: string): Promise<RunState | null> {
    const detail = await client.get(id)
    if (runId.value !== id) return null
    applyState(detail.state, detail.message, detail.hasModel)
    return detail.state
  }

  client.onProgress(onProgress)
  client.onState(onState)
  // Events sent while the stream was down are lost: ask for the run's state again.
  client.onReconnect(() => void restore())

  /** True once the user picked a preset: selecting another dataset no longer changes it. */
  let presetChosen = false
  /** The run whose settings the form shows (started here, or shown by restore). */
  let formShowsRun: string | null = null

  function applyPreset(preset: TrainForm['preset']): void {
    presetChosen = true
    Object.assign(form, formForPreset(preset, { name: form.name, seed: form.seed }))
  }

  /**
   * Starts the form at the dataset's default preset (`robust` for a folder of one's own images),
   * unless the user chose a preset or changed a setting, or a run is going on.
   */
  function suggestPresetFor(source: DatasetSource): void {
    if (presetChosen || isActive.value) return
    const keep = { name: form.name, seed: form.seed }
    const untouched =
      JSON.stringify({ ...form }) === JSON.stringify(formForPreset(form.preset, keep))
    const preset = defaultPresetFor(source)
    if (untouched && form.preset !== preset) Object.assign(form, formForPreset(preset, keep))
  }

  /** The request the form describes. */
  function buildRequest(datasetId: string): TrainRequest {
    const name = form.name.trim()
    return {
      datasetId,
      ...(name ? { name } : {}),
      config: {
        preset: form.preset,
        ...(form.preset === 'custom' ? { architecture: { layers: copyLayers(layers.value) } } : {}),
        epochs: form.epochs,
        batchSize: form.batchSize,
        learningRate: form.learningRate,
        lrSchedule: form.lrSchedule,
        validationSplit: form.validationSplit,
        augmentation: { ...form.augmentation },
        earlyStoppingPatience: form.earlyStoppingPatience,
        emaDecay: form.emaDecay,
        members: form.members,
        seed: form.seed,
      },
    }
  }

  /** Checks the form against the contract; the errors stay on screen until the fields are fixed. */
  function checkForm(datasetId: string): TrainRequest | null {
    const request = buildRequest(datasetId)
    formErrors.value = formErrorsOf(request)
    return Object.keys(formErrors.value).length ? null : request
  }

  async function start(datasetId: string): Promise<boolean> {
    if (isActive.value || requesting.value) return false
    // Before reset(): a refused start must not wipe the previous run's charts.
    const request = checkForm(datasetId)
    if (!request) return false
    return launch(totalEpochs(form), form.name.trim() || null, 'Could not start training', () =>
      client.start(request),
    )
  }

  /**
   * Starts a fine-tune of a run's model (a new run from its weights, on its updated dataset)
   * and shows it here like any run.
   */
  async function fineTune(request: FineTuneRequest): Promise<boolean> {
    if (isActive.value || requesting.value) {
      app.notify('A run is already in progress: stop it before fine-tuning', 'error')
      return false
    }
    const started = await launch(
      request.epochs ?? 0,
      request.name?.trim() || null,
      'Could not start the fine-tune',
      () => client.fineTune(request),
    )
    // Its settings come from the parent: the services know its epochs and its name.
    if (started) void restore()
    return started
  }

  /**
   * The epochs and learning rate a fine-tune of `runId` on `datasetId` runs by default (the
   * services' plan); rejects with why it cannot be planned.
   */
  function fineTuneDefaults(
    runId: string,
    datasetId: string,
  ): Promise<{ epochs: number; learningRate: number }> {
    return client.fineTuneDefaults(runId, datasetId)
  }

  /** Clears the screen for a new run, asks for it, and follows the run the services started. */
  async function launch(
    epochs: number,
    name: string | null,
    failure: string,
    ask: () => Promise<{ runId: string }>,
  ): Promise<boolean> {
    requesting.value = true
    reset(epochs)
    runId.value = null
    runName.value = name
    state.value = 'starting'
    try {
      const result = await ask()
      if (runId.value !== result.runId) {
        if (runId.value !== null) reset(epochs)
        runId.value = result.runId
      }
      formShowsRun = result.runId
      return true
    } catch (error) {
      state.value = 'idle'
      app.notifyError(error, failure)
      return false
    } finally {
      requesting.value = false
    }
  }

  async function control(action: 'pause' | 'resume' | 'stop'): Promise<void> {
    const id = runId.value
    if (!id) return
    requesting.value = true
    try {
      const { ok } = await client[action](id)
      if (!ok) {
        // Refused: most likely the run already ended and its final event never reached us.
        const now = await syncRun(id)
        if (now !== null && isActiveState(now)) {
          app.notify(
            `Could not ${action} training: the run is ${runStateLabel(now).toLowerCase()}.`,
            'error',
          )
        }
        return
      }
      if (action === 'pause' && state.value === 'running') state.value = 'paused'
      if (action === 'resume' && state.value === 'paused') state.value = 'running'
    } catch (error) {
      app.notifyError(error, `Could not ${action} training`)
    } finally {
      requesting.value = false
    }
  }

  const pause = () => control('pause')
  const resume = () => control('resume')
  const stop = () => control('stop')

  /** The newest step a chart series holds (-1 when empty). */
  function lastStep(points: ChartPoint[]): number {
    return points.at(-1)?.x ?? -1
  }

  /**
   * Shows the run in progress as the services hold it: its settings, every batch and epoch point,
   * its state. Live points that arrived while the answer travelled are kept on top. Called when
   * the window opens (or reloads) and when the event stream comes back.
   */
  async function restore(): Promise<void> {
    restoring.value = true
    try {
      const detail: RunDetail | null = await client.current()
      if (!detail) {
        // No run in progress: if ours still looks active, it ended while we were not listening.
        if (runId.value !== null && isActiveState(state.value)) await syncRun(runId.value)
        return
      }
      const sameRun = runId.value === detail.id
      if (!sameRun) {
        reset(totalEpochs(detail.config))
        runId.value = detail.id
      }
      // Also for a run adopted from its events before this answer came (after a reload the
      // event stream often wins the race): the form must show the run's settings.
      if (formShowsRun !== detail.id) showSettings(detail)
      runName.value = detail.name
      runBackend.value = detail.backend ?? null
      runHasModel.value = detail.hasModel
      if (!sameRun || state.value === 'idle') state.value = detail.state
      const live = buffer
      const liveReports = batchReports
      const liveStats = { ...latest }
      buffer = emptyCharts()
      latest = emptyStats(totalEpochs(detail.config))
      batchReports = []
      smoother.reset()
      for (const point of detail.batches ?? []) addBatch(point)
      for (const record of detail.history) addEpoch(record)
      // Batches and epochs are compared each with their own kind: an epoch's record has the step
      // of its last batch, and a snapshot taken between the two holds the batch but not the epoch.
      const seenBatch = lastStep(buffer.loss.batch)
      const seenEpoch = lastStep(buffer.loss.epoch)
      const newer = (points: ChartPoint[]) => points.filter((p) => p.x > seenEpoch)
      for (const report of liveReports) if (report.step > seenBatch) addBatch(report)
      buffer.loss.epoch.push(...newer(live.loss.epoch))
      buffer.loss.val.push(...newer(live.loss.val))
      buffer.accuracy.epoch.push(...newer(live.accuracy.epoch))
      buffer.accuracy.val.push(...newer(live.accuracy.val))
      if (lastStep(live.loss.batch) > seenBatch || lastStep(live.loss.epoch) > seenEpoch) {
        // The live events are newer than the snapshot: their figures are the current ones.
        const best = Math.max(latest.bestValAccuracy ?? 0, liveStats.bestValAccuracy ?? 0)
        latest = { ...liveStats, bestValAccuracy: best || null }
      }
      latest.epochs = latest.epochs || totalEpochs(detail.config)
      if (!isActiveState(detail.state)) {
        finalMessage.value = finalStateMessage(detail.state, detail.message)
        latest.etaSeconds = null
      }
      publish()
      publish.flush()
    } catch (error) {
      app.notifyError(error, 'Could not restore the current run')
    } finally {
      restoring.value = false
    }
  }

  /**
   * Shows the settings a run was started with in the form (after a reload the form would show
   * the defaults while another run goes on). A run that ended leaves its name out: the next one
   * is another run.
   */
  function showSettings(detail: RunDetail): void {
    formShowsRun = detail.id
    const active = isActiveState(detail.state)
    Object.assign(form, formForConfig(detail.config, active ? detail.name : ''))
    if (detail.config.preset === 'custom' && detail.config.architecture) {
      layers.value = copyLayers(detail.config.architecture.layers)
    }
    useDatasetStore().select(detail.datasetId)
  }

  /** Clears a finished run from the screen (and from what the services show after a reload). */
  function dismissRun(): void {
    if (isActive.value) return
    const id = runId.value
    if (id) void client.dismiss(id).catch(() => undefined)
    reset()
    runId.value = null
    runName.value = null
    state.value = 'idle'
  }

  return {
    form,
    layers,
    runId,
    runName,
    state,
    finalMessage,
    runHasModel,
    formErrors,
    requesting,
    restoring,
    runBackend,
    charts,
    stats,
    isActive,
    statusText,
    applyPreset,
    suggestPresetFor,
    buildRequest,
    checkForm,
    start,
    fineTune,
    fineTuneDefaults,
    pause,
    resume,
    stop,
    restore,
    dismissRun,
  }
})
