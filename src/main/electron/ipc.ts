import type { IpcMain, IpcMainInvokeEvent } from 'electron'

import { IPC_INVOKE_CHANNEL } from '@shared/contract'
import type { SerializedError } from '@shared/errors'

import { dispatch, type DispatchResult, type DispatchTarget } from '../services/dispatch'

/** Options of `registerIpc`. */
export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>
  /** The services (their handlers, and when they are ready). */
  services: DispatchTarget
  /** True when the event comes from our window's main frame showing our page. */
  isTrustedSender(event: IpcMainInvokeEvent): boolean
}

const REFUSED: SerializedError = {
  name: 'Forbidden',
  message: 'this frame may not call InkLab',
}

/**
 * Answers `IPC_INVOKE_CHANNEL` calls: `{ name, input }` from the preload, checked for the sender,
 * then the same `dispatch` the HTTP server uses. Always resolves with a `DispatchResult` (errors
 * thrown across IPC lose their name and fields). Returns the function that unregisters it.
 */
export function registerIpc(options: IpcOptions): () => void {
  options.ipcMain.handle(
    IPC_INVOKE_CHANNEL,
    async (event, call: unknown): Promise<DispatchResult> => {
      if (!options.isTrustedSender(event)) {
        console.warn('InkLab: refused an IPC call from an untrusted frame:', event.senderFrame?.url)
        return { ok: false, error: REFUSED }
      }
      const { name, input } = (typeof call === 'object' && call !== null ? call : {}) as {
        name?: unknown
        input?: unknown
      }
      return dispatch(options.services, name, input, { transport: 'ipc' })
    },
  )
  return () => options.ipcMain.removeHandler(IPC_INVOKE_CHANNEL)
}
