import { describeForUser } from '@shared/errors'
import type { DatasetSummary, ImportProgress, SampleImage } from '@shared/schemas'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'

import { createDatasetClient } from '@renderer/api/dataset'
import { pathForDroppedFile } from '@renderer/bridge'
import { formatQuantity } from '@renderer/lib/format'
import { throttle } from '@renderer/lib/throttle'
import { useAppStore } from './app'

/** How often import progress reaches the UI. */
export const PROGRESS_INTERVAL_MS = 250
/** Samples shown per class in the grid. */
export const SAMPLES_PER_CLASS = 8

export type ImportKind = 'builtin' | 'idx' | 'folder'

/** Imported datasets, the one selected for training, and imports in progress. */
export const useDatasetStore = defineStore('dataset', () => {
  const client = createDatasetClient()
  const app = useAppStore()

  const datasets = ref<DatasetSummary[]>([])
  const loadingList = ref(false)
  const listError = ref<string | null>(null)
  const selectedId = ref<string | null>(null)
  const importing = ref<ImportKind | null>(null)
  const cancelling = ref(false)
  const progress = ref<ImportProgress | null>(null)
  const importError = ref<string | null>(null)
  /** Sample images of the selected dataset by class index. */
  const samples = shallowRef<Record<number, SampleImage[]>>({})
  const loadingSamples = ref(false)
  let samplesToken = 0
  /** Dataset whose samples are in `samples` (so returning to the view does not refetch). */
  let samplesOf: string | null = null

  let latestProgress: ImportProgress | null = null
  const publishProgress = throttle(() => {
    progress.value = latestProgress
  }, PROGRESS_INTERVAL_MS)

  client.onProgress((p) => {
    if (!importing.value) return
    latestProgress = p
    publishProgress()
  })

  const selected = computed(() => datasets.value.find((d) => d.id === selectedId.value) ?? null)

  function upsert(summary: DatasetSummary): void {
    const rest = datasets.value.filter((d) => d.id !== summary.id)
    datasets.value = [summary, ...rest]
  }

  async function refresh(): Promise<void> {
    loadingList.value = true
    listError.value = null
    try {
      datasets.value = await client.list()
      if (!selected.value) selectedId.value = datasets.value[0]?.id ?? null
    } catch (error) {
      listError.value = describeForUser(error)
    } finally {
      loadingList.value = false
    }
  }

  function select(id: string | null): void {
    if (id === selectedId.value) return
    selectedId.value = id
    samples.value = {}
    samplesOf = null
  }

  async function runImport(
    kind: ImportKind,
    task: () => Promise<DatasetSummary>,
  ): Promise<DatasetSummary | null> {
    if (importing.value) return null
    importing.value = kind
    cancelling.value = false
    importError.value = null
    latestProgress = null
    progress.value = null
    try {
      const summary = await task()
      upsert(summary)
      if (selectedId.value === summary.id) {
        // Re-imported under the same id: its samples may have changed.
        samples.value = {}
        samplesOf = null
        void loadSamples()
      } else {
        select(summary.id)
      }
      app.notify(
        `Loaded “${summary.name}”: ${formatQuantity(summary.trainSize + summary.testSize, 'image')}`,
        'success',
      )
      return summary
    } catch (error) {
      if (cancelling.value) {
        app.notify('Import cancelled', 'info')
      } else {
        importError.value = describeForUser(error)
        app.notifyError(error, 'Import failed')
      }
      return null
    } finally {
      publishProgress.cancel()
      importing.value = null
      cancelling.value = false
      progress.value = null
    }
  }

  const loadBuiltin = () => runImport('builtin', () => client.loadBuiltin())
  const openIdx = (path: string) => runImport('idx', () => client.openIdx(path.trim()))
  const importFolder = (path: string) => runImport('folder', () => client.importFolder(path.trim()))

  async function cancelImport(): Promise<void> {
    if (!importing.value) return
    cancelling.value = true
    try {
      await client.cancelImport()
    } catch (error) {
      cancelling.value = false
      app.notifyError(error, 'Could not cancel the import')
    }
  }

  /** Path of a dropped folder (Electron only); null in a browser, which hides real paths. */
  function pathOfDroppedFile(file: File): string | null {
    return pathForDroppedFile(file)
  }

  /** Loads a few training samples of every class of the selected dataset. */
  async function loadSamples(): Promise<void> {
    const dataset = selected.value
    if (!dataset || samplesOf === dataset.id) return
    samplesOf = dataset.id
    const token = ++samplesToken
    loadingSamples.value = true
    const byClass: Record<number, SampleImage[]> = {}
    try {
      const labels = dataset.labels.map((_, i) => i)
      const CONCURRENCY = 4
      for (let i = 0; i < labels.length; i += CONCURRENCY) {
        const batch = labels.slice(i, i + CONCURRENCY)
        const results = await Promise.all(
          batch.map((label) =>
            client.samples({
              datasetId: dataset.id,
              split: 'train',
              label,
              count: SAMPLES_PER_CLASS,
            }),
          ),
        )
        if (token !== samplesToken) return
        batch.forEach((label, j) => (byClass[label] = results[j] ?? []))
        samples.value = { ...byClass }
      }
    } catch (error) {
      if (token === samplesToken) {
        samplesOf = null
        app.notifyError(error, 'Could not load samples')
      }
    } finally {
      if (token === samplesToken) loadingSamples.value = false
    }
  }

  return {
    datasets,
    loadingList,
    listError,
    selectedId,
    selected,
    importing,
    cancelling,
    progress,
    importError,
    samples,
    loadingSamples,
    refresh,
    select,
    loadBuiltin,
    openIdx,
    importFolder,
    cancelImport,
    pathOfDroppedFile,
    loadSamples,
  }
})
