// Types of what the preload exposes, for the renderer (`window.inklab`).
import type { PreloadApi } from '@shared/contract'

declare global {
  interface Window {
    /** The preload's bridge inside Electron; absent in serve mode. */
    readonly inklab?: PreloadApi
  }
}
