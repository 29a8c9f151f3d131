import { describeForUser } from '@shared/errors'
import type { AppInfo, EventPayload } from '@shared/contract'
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { createAppClient } from '@renderer/api/app'

/** The five top-level views, in sidebar order (Ctrl/Cmd+1..5). */
export const VIEWS = [
  { name: 'data', label: 'Data', icon: 'M4 6h16M4 12h16M4 18h10' },
  { name: 'train', label: 'Train', icon: 'M4 18l5-6 4 3 7-9' },
  {
    name: 'evaluate',
    label: 'Evaluate',
    icon: 'M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z',
  },
  { name: 'draw', label: 'Draw', icon: 'M4 20l4-1 11-11-3-3L5 16l-1 4z' },
  { name: 'models', label: 'Models', icon: 'M12 3l8 4-8 4-8-4 8-4zM4 12l8 4 8-4M4 17l8 4 8-4' },
] as const
export type ViewName = (typeof VIEWS)[number]['name']

export type ToastKind = 'error' | 'info' | 'success'
export interface Toast {
  id: number
  kind: ToastKind
  message: string
  /** How many times this message was shown; identical toasts merge into one. */
  count: number
}

type EngineStatus = EventPayload<'engine.status'>

/** How long an info or success toast stays; errors stay until dismissed. */
export const INFO_TOAST_MS = 5000
/** The most toasts shown at once (the newest); the rest wait behind a "more" line. */
export const MAX_VISIBLE_TOASTS = 3

/** App-wide facts (version, transport, backend), engine health, the current view and toasts. */
export const useAppStore = defineStore('app', () => {
  const client = createAppClient()

  const info = ref<AppInfo | null>(null)
  const loadingInfo = ref(false)
  const infoError = ref<string | null>(null)
  const engineStatus = ref<EngineStatus | null>(null)
  const view = ref<ViewName>('data')
  const toasts = ref<Toast[]>([])
  let nextToastId = 1
  const toastTimers = new Map<number, ReturnType<typeof setTimeout>>()

  client.onEngineStatus((status) => {
    engineStatus.value = status
  })

  // The latest engine.status wins over app.info: after a crash there is no backend any more.
  const backend = computed(() =>
    engineStatus.value ? engineStatus.value.backend : (info.value?.backend ?? null),
  )
  const nativeDialogs = computed(() => info.value?.nativeDialogs ?? false)

  /** Non-null when the engine host is down, with what is known about why. */
  const engineError = computed<string | null>(() => {
    if (engineStatus.value) {
      return engineStatus.value.running
        ? null
        : (engineStatus.value.error ?? 'The engine process stopped unexpectedly.')
    }
    return info.value?.engineError ?? null
  })

  /** "native (TensorFlow C++)" or "wasm (SIMD) — native TensorFlow unavailable: <reason>". */
  const backendLabel = computed(() => {
    const b = backend.value
    if (!b) return engineError.value ? 'Engine not running' : 'Starting engine…'
    const name = b.detail || b.name
    if (b.name === 'native') return name
    return `${name} — native TensorFlow unavailable${b.nativeUnavailableReason ? `: ${b.nativeUnavailableReason}` : ''}`
  })

  /** What fits the status bar: "native", or "wasm · native TensorFlow unavailable". */
  const backendShortLabel = computed(() => {
    const b = backend.value
    if (!b) return backendLabel.value
    return b.name === 'native' ? b.name : `${b.name} · native TensorFlow unavailable`
  })

  async function init(): Promise<void> {
    loadingInfo.value = true
    infoError.value = null
    try {
      info.value = await client.info()
    } catch (error) {
      infoError.value = describeForUser(error)
      notifyError(error)
    } finally {
      loadingInfo.value = false
    }
  }

  /** (Re)starts the expiry of an info or success toast. */
  function scheduleExpiry(toast: Toast): void {
    if (toast.kind === 'error') return
    clearTimeout(toastTimers.get(toast.id))
    toastTimers.set(
      toast.id,
      setTimeout(() => dismiss(toast.id), INFO_TOAST_MS),
    )
  }

  /**
   * Shows a toast. The same message again (live classification failing, say) merges into the one
   * shown: its count goes up, it moves to the newest place and, unless an error, lives on.
   */
  function notify(message: string, kind: ToastKind = 'info'): number {
    const same = toasts.value.find((t) => t.kind === kind && t.message === message)
    const toast = same
      ? { ...same, count: same.count + 1 }
      : { id: nextToastId++, kind, message, count: 1 }
    toasts.value = [...toasts.value.filter((t) => t.id !== toast.id), toast]
    scheduleExpiry(toast)
    return toast.id
  }

  /** Shows an error toast with the message (and the file it concerns); stays until dismissed. */
  function notifyError(error: unknown, context?: string): number {
    const message = describeForUser(error)
    return notify(context ? `${context}: ${message}` : message, 'error')
  }

  function dismiss(id: number): void {
    clearTimeout(toastTimers.get(id))
    toastTimers.delete(id)
    toasts.value = toasts.value.filter((t) => t.id !== id)
  }

  function dismissAll(): void {
    for (const timer of toastTimers.values()) clearTimeout(timer)
    toastTimers.clear()
    toasts.value = []
  }

  function navigate(name: ViewName): void {
    view.value = name
  }

  /** Asks for a path with the native dialog; null when cancelled or dialogs are unavailable. */
  async function choosePath(kind: 'folder' | 'files', title?: string): Promise<string | null> {
    if (!nativeDialogs.value) return null
    try {
      const paths = await client.openDialog({ kind, title })
      return paths?.[0] ?? null
    } catch (error) {
      notifyError(error, 'Could not open the dialog')
      return null
    }
  }

  return {
    info,
    loadingInfo,
    infoError,
    engineStatus,
    engineError,
    backend,
    backendLabel,
    backendShortLabel,
    nativeDialogs,
    view,
    toasts,
    init,
    notify,
    notifyError,
    dismiss,
    dismissAll,
    navigate,
    choosePath,
  }
})
