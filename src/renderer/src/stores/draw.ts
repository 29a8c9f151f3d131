import { describeForUser } from '@shared/errors'
import type { Classification } from '@shared/contract'
import type { GrayImagePayload } from '@shared/schemas'
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'

import { createDrawClient } from '@renderer/api/draw'
import { useAppStore } from './app'

/** Live classification interval while the pen moves. */
export const LIVE_CLASSIFY_INTERVAL_MS = 150

/**
 * Classifications of the drawing pad and of image files. Requests never pile up: while one is in
 * flight only the newest drawing waits, and answers older than the last clear are dropped.
 */
export const useDrawStore = defineStore('draw', () => {
  const client = createDrawClient()
  const app = useAppStore()

  const classification = shallowRef<Classification | null>(null)
  const source = ref<'pad' | 'file' | null>(null)
  const filePath = ref<string | null>(null)
  const classifying = ref(false)
  const error = ref<string | null>(null)

  let generation = 0
  let inFlight = false
  /** Generation the drawing in flight was sent under. */
  let inFlightGen = -1
  let queued: GrayImagePayload | null = null
  /** Generation of the file request in flight, if any. */
  let fileGen: number | null = null

  async function send(image: GrayImagePayload, gen: number): Promise<void> {
    inFlight = true
    inFlightGen = gen
    classifying.value = true
    try {
      const result = await client.classify(image)
      if (gen === generation) {
        classification.value = result
        source.value = 'pad'
        error.value = null
      }
    } catch (e) {
      if (gen === generation) {
        error.value = describeForUser(e)
        app.notifyError(e, 'Classification failed')
      }
    } finally {
      inFlight = false
      const next = queued
      queued = null
      // Anything queued now was queued after the last clear, so it belongs to the current generation.
      if (next) void send(next, generation)
      else if (gen === generation) classifying.value = false
    }
  }

  /** Classifies a drawing; while a request is in flight, only the newest drawing is kept. */
  function classify(image: GrayImagePayload): void {
    // The user drew after asking for a file: the file's answer must not overwrite the drawing's.
    if (fileGen !== null) {
      generation++
      fileGen = null
    }
    if (inFlight) {
      queued = image
      return
    }
    void send(image, generation)
  }

  /** Classifies an image file; true when its answer is the one shown (not failed or superseded). */
  async function classifyFile(path: string): Promise<boolean> {
    // Bumping the generation also drops the answer of any drawing still in flight.
    const gen = ++generation
    fileGen = gen
    queued = null
    classifying.value = true
    try {
      const result = await client.classifyFile(path.trim())
      if (gen !== generation) return false
      classification.value = result
      source.value = 'file'
      filePath.value = path.trim()
      error.value = null
      return true
    } catch (e) {
      if (gen === generation) {
        error.value = describeForUser(e)
        app.notifyError(e, 'Could not classify the file')
      }
      return false
    } finally {
      if (fileGen === gen) fileGen = null
      if (gen === generation) classifying.value = false
    }
  }

  /** Forgets the current result; answers to earlier requests are ignored. */
  function clear(): void {
    generation++
    fileGen = null
    queued = null
    classification.value = null
    source.value = null
    filePath.value = null
    error.value = null
    classifying.value = false
  }

  /**
   * Forgets the drawing's result, and any drawing still waiting for one, when the pad goes away
   * (its strokes live in the view). A file's result stays: it does not depend on the pad.
   */
  function clearPad(): void {
    const padPending = queued !== null || (inFlight && inFlightGen === generation)
    if (source.value === 'file' && !padPending) return
    clear()
  }

  return {
    classification,
    source,
    filePath,
    classifying,
    error,
    classify,
    classifyFile,
    clear,
    clearPad,
  }
})
