import { describeForUser } from '@shared/errors'
import {
  DEFAULT_TEST_SPLIT,
  IMPORT_LIMITS,
  type DatasetSummary,
  type ImportProgress,
  type SampleImage,
  type TestSplit,
} from '@shared/schemas'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'

import { createDatasetClient } from '@renderer/api/dataset'
import { pathForDroppedFile } from '@renderer/bridge'
import { formatQuantity } from '@renderer/lib/format'
import { planUpload, type PickedFile, type UploadFile } from '@renderer/lib/pickedFolder'
import { throttle } from '@renderer/lib/throttle'
import { useAppStore } from './app'

/** How often import progress reaches the UI. */
export const PROGRESS_INTERVAL_MS = 250
/** Samples shown per class in the grid. */
export const SAMPLES_PER_CLASS = 8
/** Files of an upload sent at once. */
export const UPLOAD_CONCURRENCY = 4

export type ImportKind = 'builtin' | 'idx' | 'folder' | 'upload'

/** Progress as the Data view shows it: the services' import phases, and the upload before them. */
export type ShownProgress =
  ImportProgress | { phase: 'uploading'; done: number; total: number; file?: string }

/** An import of something already imported: it waits for the user to choose what to do. */
export interface PendingImport {
  existing: DatasetSummary
  /** The same files as then (an upload's fingerprint matches); unknown for a path. */
  same: boolean | null
  request:
    | { kind: 'idx' | 'folder'; path: string }
    | { kind: 'upload'; description: UploadDescriptionOf; files: UploadFile[] }
}
type UploadDescriptionOf = Extract<ReturnType<typeof planUpload>, { ok: true }>['description']

/** What the user may do about an import of a folder already imported. */
export type ImportChoice = 'reuse' | 'refresh' | 'new' | 'cancel'

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
  const progress = ref<ShownProgress | null>(null)
  const importError = ref<string | null>(null)
  /** Files an upload left out (not images, hidden, too big), with why; shown after it. */
  const leftOut = ref<{ path: string; reason: string }[]>([])
  /** The share of each class a folder import holds out for testing. */
  const testFraction = ref<number>(DEFAULT_TEST_SPLIT)
  /** A separate folder of test images (path imports), instead of a share. */
  const testFolder = ref('')
  const pending = ref<PendingImport | null>(null)
  let uploadAbort: AbortController | null = null
  /** Sample images of the selected dataset by class index. */
  const samples = shallowRef<Record<number, SampleImage[]>>({})
  const loadingSamples = ref(false)
  let samplesToken = 0
  /** Dataset whose samples are in `samples` (so returning to the view does not refetch). */
  let samplesOf: string | null = null

  let latestProgress: ShownProgress | null = null
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
    const at = datasets.value.findIndex((d) => d.id === summary.id)
    datasets.value =
      at >= 0
        ? datasets.value.map((d) => (d.id === summary.id ? summary : d))
        : [summary, ...datasets.value]
  }

  /**
   * A dataset changed elsewhere (a drawing saved, a sample corrected): its new summary takes its
   * place in the list, and its samples are read again when next shown.
   */
  function updated(summary: DatasetSummary): void {
    const known = datasets.value.some((d) => d.id === summary.id)
    datasets.value = known
      ? datasets.value.map((d) => (d.id === summary.id ? summary : d))
      : [summary, ...datasets.value]
    if (samplesOf === summary.id) {
      samplesOf = null
      samples.value = {}
    }
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

  /** The test split the import options describe (for a path import). */
  function testSplit(): TestSplit | null {
    const folder = testFolder.value.trim()
    if (folder) return { folder }
    const fraction = Number(testFraction.value)
    const { min, max } = IMPORT_LIMITS.testSplit
    if (!Number.isFinite(fraction) || fraction < min || fraction > max) {
      importError.value = `The test split must be between ${min * 100}% and ${max * 100}% of each class.`
      app.notify(importError.value, 'error')
      return null
    }
    return { fraction }
  }

  /**
   * Runs an import request, or, when the same folder was imported before, asks first (reuse
   * it, refresh it, or import it again as another dataset).
   */
  async function requestImport(
    request: PendingImport['request'],
    ask = true,
  ): Promise<DatasetSummary | null> {
    if (importing.value) return null
    importError.value = null
    if (ask) {
      try {
        const existing = await client.find(
          request.kind === 'upload' ? { upload: request.description } : { path: request.path },
        )
        if (existing) {
          const same =
            request.kind === 'upload' && existing.source.kind === 'folder'
              ? existing.source.upload?.fingerprint === request.description.fingerprint
              : null
          pending.value = { existing, same, request }
          return null
        }
      } catch {
        // Not knowing whether it was imported is no reason not to import it.
      }
    }
    return start(request)
  }

  function start(
    request: PendingImport['request'],
    replace?: string,
  ): Promise<DatasetSummary | null> {
    if (request.kind === 'upload') return upload(request.description, request.files, replace)
    const { kind, path } = request
    const split = kind === 'folder' ? testSplit() : null
    if (kind === 'folder' && !split) return Promise.resolve(null)
    return runImport(kind, () =>
      kind === 'idx'
        ? client.openIdx({ path, ...(replace ? { replace } : {}) })
        : client.importFolder({ path, test: split!, ...(replace ? { replace } : {}) }),
    )
  }

  const openIdx = (path: string) => requestImport({ kind: 'idx', path: path.trim() })
  const importFolder = (path: string) => requestImport({ kind: 'folder', path: path.trim() })

  /** Answers the question an import of an already imported folder asked. */
  async function choose(choice: ImportChoice): Promise<DatasetSummary | null> {
    const asked = pending.value
    pending.value = null
    if (!asked || choice === 'cancel') return null
    if (choice === 'reuse') {
      select(asked.existing.id)
      app.notify(`Using “${asked.existing.name}”, imported before`, 'info')
      return asked.existing
    }
    return start(asked.request, choice === 'refresh' ? asked.existing.id : undefined)
  }

  /**
   * Uploads a folder chosen or dropped in the browser (serve mode) and imports it: its images go
   * to the services a few at a time, with progress, then through the folder import.
   */
  async function uploadFolder(picked: readonly PickedFile[]): Promise<DatasetSummary | null> {
    if (importing.value) return null
    const plan = planUpload(picked)
    leftOut.value = plan.ok ? plan.leftOut : []
    if (!plan.ok) {
      importError.value = plan.message
      app.notify(plan.message, 'error')
      return null
    }
    return requestImport({ kind: 'upload', description: plan.description, files: plan.files })
  }

  function upload(
    description: UploadDescriptionOf,
    files: UploadFile[],
    replace?: string,
  ): Promise<DatasetSummary | null> {
    const fraction = Number(testFraction.value)
    return runImport('upload', async () => {
      const abort = new AbortController()
      uploadAbort = abort
      const { uploadId } = await client.uploadStart(description)
      try {
        let sent = 0
        let next = 0
        latestProgress = { phase: 'uploading', done: 0, total: description.bytes }
        publishProgress()
        const worker = async (): Promise<void> => {
          while (next < files.length && !abort.signal.aborted) {
            const { rel, file } = files[next++]!
            await client.uploadFile(uploadId, rel, file, abort.signal)
            sent += file.size
            latestProgress = { phase: 'uploading', done: sent, total: description.bytes, file: rel }
            publishProgress()
          }
        }
        await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, worker))
        abort.signal.throwIfAborted()
        uploadAbort = null
        return await client.importUpload({
          uploadId,
          ...(Number.isFinite(fraction) ? { testFraction: fraction } : {}),
          ...(replace ? { replace } : {}),
        })
      } catch (error) {
        void client.uploadDiscard(uploadId).catch(() => undefined)
        throw error
      } finally {
        uploadAbort = null
      }
    })
  }

  /** Renames a dataset. */
  async function rename(id: string, name: string): Promise<boolean> {
    const trimmed = name.trim()
    if (!trimmed) return false
    try {
      upsert(await client.rename(id, trimmed))
      return true
    } catch (error) {
      app.notifyError(error, 'Could not rename the dataset')
      return false
    }
  }

  /** Deletes a dataset (the runs trained on it stay, with its name). */
  async function remove(id: string): Promise<boolean> {
    const dataset = datasets.value.find((d) => d.id === id)
    try {
      await client.remove(id)
      datasets.value = datasets.value.filter((d) => d.id !== id)
      if (selectedId.value === id) select(datasets.value[0]?.id ?? null)
      app.notify(`Deleted “${dataset?.name ?? id}”`, 'info')
      return true
    } catch (error) {
      app.notifyError(error, 'Could not delete the dataset')
      return false
    }
  }

  async function cancelImport(): Promise<void> {
    if (!importing.value) return
    cancelling.value = true
    if (uploadAbort) {
      uploadAbort.abort()
      return
    }
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
    leftOut,
    testFraction,
    testFolder,
    pending,
    samples,
    loadingSamples,
    refresh,
    updated,
    select,
    loadBuiltin,
    openIdx,
    importFolder,
    uploadFolder,
    choose,
    rename,
    remove,
    cancelImport,
    pathOfDroppedFile,
    loadSamples,
  }
})
