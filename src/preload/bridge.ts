import { createEventListeners, createInvoke } from '@shared/contract/client'
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type PreloadApi } from '@shared/contract'

export type { PreloadApi } from '@shared/contract'

/** The part of Electron's `ipcRenderer` the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
}

/** Dependencies of `createPreloadApi` (Electron's objects in the app, fakes in tests). */
export interface PreloadDeps {
  ipcRenderer: IpcRendererLike
  getPathForFile(file: File): string
}

/**
 * The renderer's only way to main: `invoke` for declared routes and `on` for declared events (both
 * validated by the contract's client core), and `getPathForFile` for drag and drop. Frozen; no
 * `ipcRenderer` is reachable from it.
 */
export function createPreloadApi(deps: PreloadDeps): PreloadApi {
  const listeners = createEventListeners((name, problem) =>
    console.warn(`InkLab: dropped a malformed ${name} event: ${problem}`),
  )
  const onEvent = (_event: unknown, message: unknown): void => listeners.deliver(message)
  let subscribed = false

  const invoke = createInvoke((name, input) =>
    deps.ipcRenderer.invoke(IPC_INVOKE_CHANNEL, { name, input }),
  )

  const on: PreloadApi['on'] = (name, listener) => {
    const remove = listeners.add(name, listener)
    if (!subscribed) {
      deps.ipcRenderer.on(IPC_EVENT_CHANNEL, onEvent)
      subscribed = true
    }
    return () => {
      remove()
      if (listeners.size > 0 || !subscribed) return
      deps.ipcRenderer.removeListener(IPC_EVENT_CHANNEL, onEvent)
      subscribed = false
    }
  }

  const getPathForFile = (file: File): string => deps.getPathForFile(file)

  return Object.freeze({ invoke, on, getPathForFile })
}
