import { describeForUser } from '@shared/errors'
import {
  ExportFormatSchema,
  type ExportFormat,
  type RunDetail,
  type RunSummary,
} from '@shared/schemas'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'

import { createRunsClient } from '@renderer/api/runs'
import { formatQuantity } from '@renderer/lib/format'
import { isActiveState } from '@renderer/lib/runState'
import { useAppStore } from './app'

export interface ExportResult {
  runId: string
  path: string
  files: string[]
}

/** Saved runs and models: listing, details for charts, rename, delete, export and activation. */
export const useModelsStore = defineStore('models', () => {
  const client = createRunsClient()
  const app = useAppStore()

  const runs = ref<RunSummary[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const listError = ref<string | null>(null)
  const selectedId = ref<string | null>(null)
  const compareId = ref<string | null>(null)
  const details = shallowRef<Record<string, RunDetail>>({})
  const loadingDetail = ref(false)
  const activating = ref(false)
  const exporting = ref(false)
  const exportResult = ref<ExportResult | null>(null)
  /** The formats the next export writes: all three until the user unticks some. */
  const exportFormats = ref<ExportFormat[]>([...ExportFormatSchema.options])

  // A run that ends has a new model (or none): keep the list current.
  client.onTrainingState((event) => {
    if (!isActiveState(event.state)) void refresh()
    else if (!runs.value.some((r) => r.id === event.runId)) void refresh()
  })
  // Runs may have ended (or started) while the event stream was down.
  client.onReconnect(() => void refresh())

  const usableRuns = computed(() => runs.value.filter((r) => r.hasModel))
  const selected = computed(() => runs.value.find((r) => r.id === selectedId.value) ?? null)
  const selectedDetail = computed(() =>
    selectedId.value ? (details.value[selectedId.value] ?? null) : null,
  )
  const compareDetail = computed(() =>
    compareId.value ? (details.value[compareId.value] ?? null) : null,
  )
  /** The run whose model the drawing pad uses, as the services report it. */
  const activeRun = computed(() => runs.value.find((r) => r.active) ?? null)
  const activeRunId = computed(() => activeRun.value?.id ?? null)
  /** The latest run with a model that finished well: the default for Evaluate. */
  const latestCompleted = computed(
    () =>
      runs.value.find((r) => r.hasModel && !r.builtin && r.state === 'completed') ??
      runs.value.find(
        (r) => r.hasModel && (r.state === 'completed' || r.state === 'early-stopped'),
      ) ??
      usableRuns.value[0] ??
      null,
  )

  async function refresh(): Promise<void> {
    loading.value = true
    listError.value = null
    try {
      runs.value = await client.list()
      loaded.value = true
      const stale = details.value
      details.value = Object.fromEntries(
        Object.entries(stale).filter(([id]) =>
          runs.value.some((r) => r.id === id && !isActiveState(r.state)),
        ),
      )
    } catch (error) {
      listError.value = describeForUser(error)
    } finally {
      loading.value = false
    }
  }

  async function loadDetail(id: string): Promise<RunDetail | null> {
    if (details.value[id]) return details.value[id]!
    loadingDetail.value = true
    try {
      const detail = await client.get(id)
      details.value = { ...details.value, [id]: detail }
      return detail
    } catch (error) {
      app.notifyError(error, 'Could not load the run')
      return null
    } finally {
      loadingDetail.value = false
    }
  }

  async function select(id: string | null): Promise<void> {
    selectedId.value = id
    exportResult.value = null
    if (compareId.value === id) compareId.value = null
    if (id) await loadDetail(id)
  }

  async function setCompare(id: string | null): Promise<void> {
    compareId.value = id
    if (id) await loadDetail(id)
  }

  async function rename(id: string, name: string): Promise<boolean> {
    const trimmed = name.trim()
    if (!trimmed) return false
    try {
      const updated = await client.rename(id, trimmed)
      runs.value = runs.value.map((r) => (r.id === id ? updated : r))
      if (details.value[id]) {
        details.value = { ...details.value, [id]: { ...details.value[id]!, name: updated.name } }
      }
      return true
    } catch (error) {
      app.notifyError(error, 'Could not rename')
      return false
    }
  }

  async function remove(id: string): Promise<boolean> {
    try {
      const { ok } = await client.remove(id)
      if (!ok) throw new Error('The run could not be deleted')
      const wasActive = activeRunId.value === id
      runs.value = runs.value.filter((r) => r.id !== id)
      const rest = { ...details.value }
      delete rest[id]
      details.value = rest
      if (selectedId.value === id) selectedId.value = null
      if (compareId.value === id) compareId.value = null
      // Deleting the active run makes the services fall back to the bundled model.
      if (wasActive) void refresh()
      return true
    } catch (error) {
      app.notifyError(error, 'Could not delete')
      return false
    }
  }

  async function exportRun(
    id: string,
    destination: string,
    formats: ExportFormat[] = exportFormats.value,
  ): Promise<ExportResult | null> {
    if (formats.length === 0) {
      app.notify('Choose at least one format to export', 'error')
      return null
    }
    exporting.value = true
    exportResult.value = null
    try {
      const result = await client.exportRun(id, destination.trim(), [...formats])
      exportResult.value = { runId: id, ...result }
      app.notify(
        `Exported ${formatQuantity(result.files.length, 'file')} to ${result.path}`,
        'success',
      )
      return exportResult.value
    } catch (error) {
      app.notifyError(error, 'Export failed')
      return null
    } finally {
      exporting.value = false
    }
  }

  async function activate(id: string): Promise<boolean> {
    activating.value = true
    try {
      const summary = await client.activate(id)
      runs.value = runs.value.map((r) =>
        r.id === summary.id ? summary : r.active ? { ...r, active: false } : r,
      )
      return true
    } catch (error) {
      app.notifyError(error, 'Could not load the model')
      return false
    } finally {
      activating.value = false
    }
  }

  return {
    runs,
    loading,
    loaded,
    listError,
    selectedId,
    compareId,
    details,
    loadingDetail,
    activeRunId,
    activating,
    exporting,
    exportResult,
    exportFormats,
    usableRuns,
    selected,
    selectedDetail,
    compareDetail,
    activeRun,
    latestCompleted,
    refresh,
    loadDetail,
    select,
    setCompare,
    rename,
    remove,
    exportRun,
    activate,
  }
})
