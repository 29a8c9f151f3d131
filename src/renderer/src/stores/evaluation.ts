import { describeForUser } from '@shared/errors'
import type { Correction, EvaluationReport, SampleImage } from '@shared/schemas'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'

import { createEvaluationClient } from '@renderer/api/evaluation'
import { cellIndices } from '@renderer/lib/confusion'
import { useAppStore } from './app'
import { useCollectStore } from './collect'
import { useModelsStore } from './models'

/** Images shown for one confusion-matrix cell. */
export const CELL_SAMPLE_LIMIT = 60
/** Misclassified samples on one page of the gallery (it pages through all of them). */
export const GALLERY_PAGE_SIZE = 48

export interface SelectedCell {
  actual: number
  predicted: number
  count: number
}

/** Evaluation reports by run, and the samples behind a confusion cell or a misclassification. */
export const useEvaluationStore = defineStore('evaluation', () => {
  const client = createEvaluationClient()
  const app = useAppStore()
  const models = useModelsStore()

  const runId = ref<string | null>(null)
  /** The dataset to evaluate on: null for the run's own (its held-out test split). */
  const datasetId = ref<string | null>(null)
  const reports = shallowRef<Record<string, EvaluationReport>>({})
  const running = ref(false)
  const loadingLast = ref(false)
  const error = ref<string | null>(null)
  const cell = ref<SelectedCell | null>(null)
  const cellSamples = shallowRef<SampleImage[]>([])
  const cellLoading = ref(false)
  const cellExact = ref(true)
  const gallery = shallowRef<Record<number, SampleImage>>({})
  const galleryLoading = ref(false)
  /** The gallery page on screen (0-based). */
  const galleryPage = ref(0)
  /** Corrections made since each run's report, by sample key (a new evaluation clears them). */
  const corrections = shallowRef<Record<string, Record<string, Correction>>>({})
  let cellToken = 0

  const report = computed(() => (runId.value ? (reports.value[runId.value] ?? null) : null))
  /** How many gallery pages the report's mistakes fill. */
  const galleryPages = computed(() =>
    Math.max(1, Math.ceil((report.value?.misclassified.length ?? 0) / GALLERY_PAGE_SIZE)),
  )
  /** The mistakes on the gallery page on screen. */
  const galleryItems = computed(() =>
    (report.value?.misclassified ?? []).slice(
      galleryPage.value * GALLERY_PAGE_SIZE,
      (galleryPage.value + 1) * GALLERY_PAGE_SIZE,
    ),
  )
  /** The dataset of the report on screen (its images are asked for from it). */
  const reportDatasetId = computed(() => report.value?.dataset?.id)
  /** The dataset the report on screen read (its corrections go to it): the run's own by default. */
  const correctedDatasetId = computed(
    () => reportDatasetId.value ?? models.runs.find((r) => r.id === runId.value)?.datasetId ?? null,
  )
  /** Corrections made from the current report. */
  const corrected = computed(() => (runId.value ? (corrections.value[runId.value] ?? {}) : {}))
  /**
   * True once the dataset was corrected after the report: its sample indices may now name other
   * samples, so cells are not opened until the next evaluation.
   */
  const stale = computed(() => Object.keys(corrected.value).length > 0)

  function selectRun(id: string | null): void {
    if (id === runId.value) return
    runId.value = id
    datasetId.value = null
    error.value = null
    cell.value = null
    cellSamples.value = []
    gallery.value = {}
    galleryPage.value = 0
    if (id && reports.value[id]) void loadGallery()
    else if (id) void loadLast(id)
  }

  /** The run's last evaluation as the services kept it (after a reload, it is shown again). */
  async function loadLast(id: string): Promise<void> {
    loadingLast.value = true
    try {
      const last = await client.last(id)
      if (!last || reports.value[id] || running.value) return
      reports.value = { ...reports.value, [id]: last }
      if (runId.value === id) void loadGallery()
    } catch {
      // Nothing to show again: the run can still be evaluated.
    } finally {
      loadingLast.value = false
    }
  }

  async function evaluate(id = runId.value): Promise<void> {
    if (!id || running.value) return
    if (id !== runId.value) datasetId.value = null
    runId.value = id
    running.value = true
    error.value = null
    cell.value = null
    cellSamples.value = []
    gallery.value = {}
    galleryPage.value = 0
    try {
      const result = await client.run(id, datasetId.value ?? undefined)
      reports.value = { ...reports.value, [id]: result }
      corrections.value = { ...corrections.value, [id]: {} }
      void loadGallery()
      // The services kept the evaluated accuracy with the run: show it in the lists.
      void models.refresh()
    } catch (e) {
      error.value = describeForUser(e)
      app.notifyError(e, 'Evaluation failed')
    } finally {
      running.value = false
    }
  }

  async function openCell(actual: number, predicted: number): Promise<void> {
    const r = report.value
    const id = runId.value
    if (!r || !id || stale.value) return
    const count = r.confusion[actual]?.[predicted] ?? 0
    // A newer cell supersedes any request still in flight, even when it needs no request itself.
    const token = ++cellToken
    cell.value = { actual, predicted, count }
    cellSamples.value = []
    cellLoading.value = false
    const { indices, exact } = cellIndices(r, actual, predicted, CELL_SAMPLE_LIMIT)
    cellExact.value = exact
    if (!indices.length) return
    cellLoading.value = true
    try {
      const images = await client.samples(id, indices, reportDatasetId.value)
      if (token !== cellToken) return
      // Sample labels are the actual labels: drop guesses that turn out to be in another cell.
      cellSamples.value = exact ? images : images.filter((s) => s.label === actual)
    } catch (e) {
      if (token === cellToken) app.notifyError(e, 'Could not load the samples')
    } finally {
      if (token === cellToken) cellLoading.value = false
    }
  }

  function closeCell(): void {
    cellToken++
    cell.value = null
    cellSamples.value = []
    cellLoading.value = false
  }

  /** Loads the images of the gallery page on screen (pages seen before are kept). */
  async function loadGallery(): Promise<void> {
    const r = report.value
    const id = runId.value
    if (!r || !id || !r.misclassified.length) return
    const missing = galleryItems.value.map((m) => m.index).filter((i) => !gallery.value[i])
    if (!missing.length) return
    galleryLoading.value = true
    try {
      const images = await client.samples(id, missing, reportDatasetId.value)
      if (id !== runId.value || r !== report.value) return
      gallery.value = {
        ...gallery.value,
        ...Object.fromEntries(images.map((s) => [s.index, s])),
      }
    } catch (e) {
      app.notifyError(e, 'Could not load misclassified samples')
    } finally {
      galleryLoading.value = false
    }
  }

  /**
   * Relabels, excludes or restores a sample of the evaluated run's dataset (in InkLab's copy);
   * the report is kept, and marked as out of date.
   */
  async function correct(key: string, correction: Correction): Promise<boolean> {
    const id = runId.value
    const dataset = correctedDatasetId.value
    if (!id || !dataset) return false
    if (!(await useCollectStore().correct(dataset, key, correction))) return false
    const made = { ...(corrections.value[id] ?? {}) }
    if (correction.action === 'restore') delete made[key]
    else made[key] = correction
    corrections.value = { ...corrections.value, [id]: made }
    if (cell.value && Object.keys(made).length) closeCell()
    return true
  }

  /** Shows gallery page `page` (0-based), loading its images. */
  function showGalleryPage(page: number): void {
    galleryPage.value = Math.min(Math.max(0, page), galleryPages.value - 1)
    void loadGallery()
  }

  /** Chooses the dataset the next evaluation uses (null: the run's own). */
  function selectDataset(id: string | null): void {
    datasetId.value = id
  }

  return {
    runId,
    datasetId,
    reports,
    report,
    running,
    loadingLast,
    error,
    cell,
    cellSamples,
    cellLoading,
    cellExact,
    gallery,
    galleryLoading,
    correctedDatasetId,
    corrected,
    stale,
    galleryPage,
    galleryPages,
    galleryItems,
    showGalleryPage,
    selectDataset,
    selectRun,
    correct,
    evaluate,
    openCell,
    closeCell,
  }
})
