import type { RouteInput } from '@shared/contract'
import {
  COLLECTION_DEFAULTS,
  COLLECTION_LIMITS,
  type CollectedSample,
  type Correction,
  type DatasetSummary,
} from '@shared/schemas'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'

import { createCollectionClient } from '@renderer/api/collection'
import { useAppStore } from './app'
import { useDatasetStore } from './dataset'

/** Drawings shown as saved last. */
export const RECENT_LIMIT = 12

/** What the Draw view does with a drawing: classify it, or collect it into a dataset. */
export type DrawMode = 'classify' | 'collect'

/** One class of the dataset being collected, with its drawings so far. */
export interface CollectedClass {
  label: string
  count: number
}

/** A drawing to save: the pad's image, its ink, and where it goes. */
export type DrawingToSave = Omit<RouteInput<'collection.add'>, 'datasetId' | 'label'>

/**
 * Collecting by drawing and correcting samples: the dataset drawings go into, the label they
 * get, the target per class, and every change of a dataset's samples (a drawing saved or
 * undone, a sample relabelled or excluded). The dataset store gets each new summary.
 */
export const useCollectStore = defineStore('collect', () => {
  const client = createCollectionClient()
  const app = useAppStore()
  const data = useDatasetStore()

  const mode = ref<DrawMode>('classify')
  const datasetId = ref<string | null>(null)
  const label = ref('')
  const target = ref<number>(COLLECTION_DEFAULTS.target)
  const saving = ref(false)
  const undoing = ref(false)
  const creating = ref(false)
  /** The drawing saved last (this session), for the status line. */
  const lastSaved = ref<CollectedSample | null>(null)
  /** The drawings saved last into the chosen dataset, newest first (what the model will see). */
  const recent = shallowRef<CollectedSample[]>([])

  /** Drawn datasets, the ones collection offers. */
  const drawnDatasets = computed(() => data.datasets.filter((d) => d.source.kind === 'drawn'))
  const dataset = computed<DatasetSummary | null>(
    () => data.datasets.find((d) => d.id === datasetId.value) ?? null,
  )
  /** The label as it will be saved (trimmed). */
  const cleanLabel = computed(() => label.value.trim().slice(0, COLLECTION_LIMITS.labelLength))
  /** Each class with its drawings, and the label being collected when it is new. */
  const classes = computed<CollectedClass[]>(() => {
    const d = dataset.value
    const list = d ? d.labels.map((l, i) => ({ label: l, count: d.trainCounts[i] ?? 0 })) : []
    if (cleanLabel.value && !list.some((c) => c.label === cleanLabel.value)) {
      list.push({ label: cleanLabel.value, count: 0 })
    }
    return list
  })
  const currentCount = computed(
    () => classes.value.find((c) => c.label === cleanLabel.value)?.count ?? 0,
  )

  watch(datasetId, () => (recent.value = []))

  /** Switches the Draw view to collecting, into dataset `id` when given, and shows it. */
  function collect(id?: string): void {
    if (id) datasetId.value = id
    mode.value = 'collect'
    app.navigate('draw')
  }

  /** A new, empty drawn dataset, chosen for collecting. */
  async function createDataset(name: string): Promise<boolean> {
    const trimmed = name.trim()
    if (!trimmed || creating.value) return false
    creating.value = true
    try {
      const summary = await client.create(trimmed)
      data.updated(summary)
      datasetId.value = summary.id
      return true
    } catch (error) {
      app.notifyError(error, 'Could not create the dataset')
      return false
    } finally {
      creating.value = false
    }
  }

  /** Saves a drawing under the current label; true once it is on disk. */
  async function save(drawing: DrawingToSave): Promise<boolean> {
    const id = datasetId.value
    if (!id || !cleanLabel.value || saving.value) return false
    saving.value = true
    try {
      const { summary, sample } = await client.add({
        ...drawing,
        datasetId: id,
        label: cleanLabel.value,
      })
      data.updated(summary)
      lastSaved.value = sample
      recent.value = [sample, ...recent.value].slice(0, RECENT_LIMIT)
      return true
    } catch (error) {
      app.notifyError(error, 'Could not save the drawing')
      return false
    } finally {
      saving.value = false
    }
  }

  /** Removes the drawing saved last into the chosen dataset. */
  async function undo(): Promise<void> {
    const id = datasetId.value
    if (!id || undoing.value) return
    undoing.value = true
    try {
      const { summary, removed } = await client.undo(id)
      data.updated(summary)
      if (removed?.key === lastSaved.value?.key) lastSaved.value = null
      recent.value = recent.value.filter((s) => s.key !== removed?.key)
      app.notify(
        removed ? `Removed the last drawing of “${removed.label}”` : 'No drawing left to undo',
        'info',
      )
    } catch (error) {
      app.notifyError(error, 'Could not undo')
    } finally {
      undoing.value = false
    }
  }

  /**
   * Adds a drawing to any dataset under `label` (a correction of a wrong prediction); the
   * saved sample, or null when it failed (the error is shown).
   */
  async function addTo(
    id: string,
    sampleLabel: string,
    drawing: DrawingToSave,
  ): Promise<CollectedSample | null> {
    try {
      const { summary, sample } = await client.add({
        ...drawing,
        datasetId: id,
        label: sampleLabel,
      })
      data.updated(summary)
      return sample
    } catch (error) {
      app.notifyError(error, 'Could not add the drawing')
      return null
    }
  }

  /** Relabels, excludes or restores a sample; true when done. */
  async function correct(id: string, key: string, correction: Correction): Promise<boolean> {
    try {
      const { summary } = await client.correct(id, key, correction)
      data.updated(summary)
      return true
    } catch (error) {
      app.notifyError(error, 'Could not correct the sample')
      return false
    }
  }

  return {
    mode,
    datasetId,
    label,
    target,
    saving,
    undoing,
    creating,
    lastSaved,
    recent,
    drawnDatasets,
    dataset,
    cleanLabel,
    classes,
    currentCount,
    collect,
    createDataset,
    save,
    undo,
    addTo,
    correct,
  }
})
