// Preload (sandboxed, context-isolated): exposes window.inklab and nothing else.
import { contextBridge, ipcRenderer, webUtils } from 'electron'

import { createPreloadApi } from './bridge'

contextBridge.exposeInMainWorld(
  'inklab',
  createPreloadApi({
    ipcRenderer,
    getPathForFile: (file) => webUtils.getPathForFile(file),
  }),
)
