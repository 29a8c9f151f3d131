import type { EventPayload, RouteInput } from '@shared/contract'

import { getBridge, type AppBridge } from '@renderer/bridge'

/** App facts, native dialogs and engine status. */
export function createAppClient(bridge: AppBridge = getBridge()) {
  return {
    /** True when files can be sent to the services (a browser in serve mode). */
    canUpload: () => bridge.upload !== undefined,
    info: () => bridge.invoke('app.info', {}),
    /** Native open dialog; resolves to the chosen paths, or null when cancelled or unsupported. */
    openDialog: async (input: RouteInput<'dialog.open'>) =>
      (await bridge.invoke('dialog.open', input)).paths,
    reveal: (path: string) => bridge.invoke('shell.reveal', { path }),
    onEngineStatus: (listener: (status: EventPayload<'engine.status'>) => void) =>
      bridge.on('engine.status', listener),
  }
}
export type AppClient = ReturnType<typeof createAppClient>
