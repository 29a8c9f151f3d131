// Engine host process entry: started by Electron's `utilityProcess.fork` (messages through
// `process.parentPort`) or by Node's `child_process.fork` (messages through `process.send`).
// It never imports Electron: both channels are detected at run time.
import { BackendRequestSchema, type BackendRequest } from '@shared/schemas/backend'

import { initBackend } from '../backend'
import {
  importFolder,
  decodeImageFile,
  loadBuiltinMnist,
  loadIdxDirectory,
  loadSavedDataset,
  preprocess,
  saveDataset,
  stratifiedSplit,
  summarizeDataset,
  takeStratified,
} from '../data'
import { evaluateModel } from '../eval'
import { createModelMetadata, exportModel, loadModel, predictPixels, saveModel } from '../io'
import { resolveTrainConfig, validateArchitecture } from '../model'
import { trainModel } from '../train'
import type { EngineApi } from './engineApi'
import { EngineHost } from './engineHost'
import {
  BACKEND_ENV_VAR,
  isToHostMessage,
  serializeError,
  type FromHostMessage,
  type ToHostMessage,
} from './protocol'

/** The part of Electron's `process.parentPort` (a utility process's port to main) used here. */
interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): void
  postMessage(message: unknown): void
}

/** Sends to the parent and subscribes to its messages, whichever way this process was started. */
interface ParentChannel {
  send(message: FromHostMessage): void
  onMessage(listener: (message: unknown) => void): void
}

function parentChannel(): ParentChannel | null {
  const port = (process as unknown as { parentPort?: ParentPortLike }).parentPort
  if (port) {
    return {
      send: (message) => port.postMessage(message),
      onMessage: (listener) => port.on('message', (event) => listener(event.data)),
    }
  }
  if (typeof process.send === 'function') {
    // The parent going away closes the IPC channel: nothing is left to serve.
    process.on('disconnect', () => process.exit(0))
    return {
      send: (message) => {
        if (process.connected) process.send?.(message)
      },
      onMessage: (listener) => process.on('message', listener),
    }
  }
  return null
}

function backendRequest(): BackendRequest {
  const parsed = BackendRequestSchema.safeParse(process.env[BACKEND_ENV_VAR] ?? 'auto')
  return parsed.success ? parsed.data : 'auto'
}

/** The engine functions the host uses, named one by one so the contract is checked here. */
function realEngine(): EngineApi {
  return {
    initBackend,
    loadBuiltinMnist,
    loadIdxDirectory: (dir) => loadIdxDirectory(dir),
    importFolder,
    decodeImageFile,
    preprocess,
    stratifiedSplit,
    takeStratified,
    saveDataset: (dir, dataset) => saveDataset(dir, dataset),
    loadSavedDataset,
    summarizeDataset,
    resolveTrainConfig,
    validateArchitecture,
    trainModel,
    evaluateModel: (model, split, labels) => evaluateModel(model, split, labels),
    saveModel: (dir, model, metadata) => saveModel(dir, model, metadata),
    loadModel,
    predictPixels,
    createModelMetadata,
    exportModel,
  }
}

async function main(): Promise<void> {
  const channel = parentChannel()
  if (!channel) {
    console.error('engine host: start me with utilityProcess.fork or child_process.fork')
    process.exit(2)
  }
  const host = new EngineHost({
    engine: realEngine(),
    emit: (event) => channel.send({ type: 'event', event }),
  })
  // Requests that arrive while the backend starts wait for it; they are answered in order.
  const queue: ToHostMessage[] = []
  let started = false
  const serve = (request: ToHostMessage): void => {
    host.handle(request.method, request.params).then(
      (result) => channel.send({ type: 'response', id: request.id, result }),
      (error: unknown) =>
        channel.send({ type: 'response', id: request.id, error: serializeError(error) }),
    )
  }
  channel.onMessage((message) => {
    if (!isToHostMessage(message)) {
      console.error('engine host: ignoring a message that is not a request')
      return
    }
    if (started) serve(message)
    else queue.push(message)
  })
  process.on('unhandledRejection', (reason) => {
    console.error('engine host: unhandled rejection:', reason)
  })

  try {
    const backend = await host.initBackend(backendRequest())
    channel.send({ type: 'ready', backend })
  } catch (error) {
    console.error('engine host: no compute backend could start:', error)
    channel.send({ type: 'ready', backend: null, error: serializeError(error) })
  }
  started = true
  for (const request of queue.splice(0)) serve(request)
}

void main()
