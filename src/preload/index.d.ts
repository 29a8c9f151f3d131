// Types of what the preload exposes, for the renderer (`window.inklab`).
import type { Bridge } from '@shared/contract'

/** `window.inklab` inside Electron: the bridge plus drag-and-drop paths. Absent in serve mode. */
export interface InkLabPreloadApi extends Bridge {
  /** Absolute path of a dropped `File`; '' when it has none. */
  getPathForFile(file: File): string
}

declare global {
  interface Window {
    readonly inklab?: InkLabPreloadApi
  }
}
