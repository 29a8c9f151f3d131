// Engine host process entry: started by Electron's `utilityProcess.fork` (messages through
// `process.parentPort`) or by Node's `child_process.fork` (messages through `process.send`).
// It never imports Electron: both channels are detected at run time.
import { serializeError } from '@shared/errors'
import { BackendRequestSchema, type BackendRequest } from '@shared/schemas/backend'

import * as engine from '../index'
import { EngineHost } from './engineHost'
import { serveHost } from './hostServer'
import { BACKEND_ENV_VAR, type FromHostMessage } from './protocol'

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

async function main(): Promise<void> {
  const channel = parentChannel()
  if (!channel) {
    console.error('engine host: start me with utilityProcess.fork or child_process.fork')
    process.exit(2)
  }
  const host = new EngineHost({
    engine,
    onBackendChange: (backend) => channel.send({ type: 'backend', backend }),
  })
  // Requests that arrive while the backend starts wait for it; they are answered in order.
  let started!: () => void
  const ready = new Promise<void>((resolve) => (started = resolve))
  const server = serveHost(host.api, (message) => channel.send(message), ready)
  channel.onMessage((message) => server.receive(message))
  process.on('unhandledRejection', (reason) => {
    console.error('engine host: unhandled rejection:', reason)
  })

  try {
    const backend = await host.initBackend(backendRequest())
    channel.send({ type: 'ready', backend })
  } catch (error) {
    console.error('engine host: no compute backend could start:', error)
    channel.send({ type: 'ready', backend: null, error: serializeError(error, { stack: true }) })
  }
  started()
}

void main()
