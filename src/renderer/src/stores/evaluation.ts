import { describeForUser } from '@shared/errors'
import type { EvaluationReport, SampleImage } from '@shared/schemas'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'

import { createEvaluationClient } from '@renderer/api/evaluation'
import { cellIndices } from '@renderer/lib/confusion'
import { useAppStore } from './app'
import { useModelsStore } from './models'

/** Images shown for one confusion-matrix cell. */
export const CELL_SAMPLE_LIMIT = 60
/** Misclassified samples shown in the gallery. */
export const GALLERY_LIMIT = 48

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
  const reports = shallowRef<Record<string, EvaluationReport>>({})
  const running = ref(false)
  const error = ref<string | null>(null)
  const cell = ref<SelectedCell | null>(null)
  const cellSamples = shallowRef<SampleImage[]>([])
  const cellLoading = ref(false)
  const cellExact = ref(true)
  const gallery = shallowRef<Record<number, SampleImage>>({})
  const galleryLoading = ref(false)
  let cellToken = 0

  const report = computed(() => (runId.value ? (reports.value[runId.value] ?? null) : null))

  function selectRun(id: string | null): void {
    if (id === runId.value) return
    runId.value = id
    error.value = null
    cell.value = null
    cellSamples.value = []
    gallery.value = {}
    if (id && reports.value[id]) void loadGallery()
  }

  async function evaluate(id = runId.value): Promise<void> {
    if (!id || running.value) return
    runId.value = id
    running.value = true
    error.value = null
    cell.value = null
    cellSamples.value = []
    gallery.value = {}
    try {
      const result = await client.run(id)
      reports.value = { ...reports.value, [id]: result }
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
    if (!r || !id) return
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
      const images = await client.samples(id, indices)
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

  async function loadGallery(): Promise<void> {
    const r = report.value
    const id = runId.value
    if (!r || !id || !r.misclassified.length) return
    galleryLoading.value = true
    try {
      const indices = r.misclassified.slice(0, GALLERY_LIMIT).map((m) => m.index)
      const images = await client.samples(id, indices)
      if (id !== runId.value) return
      gallery.value = Object.fromEntries(images.map((s) => [s.index, s]))
    } catch (e) {
      app.notifyError(e, 'Could not load misclassified samples')
    } finally {
      galleryLoading.value = false
    }
  }

  return {
    runId,
    reports,
    report,
    running,
    error,
    cell,
    cellSamples,
    cellLoading,
    cellExact,
    gallery,
    galleryLoading,
    selectRun,
    evaluate,
    openCell,
    closeCell,
  }
})
