import type { Bridge, EventName, EventPayload } from '@shared/contract'
import { createEventListeners, createInvoke } from '@shared/contract/client'

/** The subset of `EventSource` the bridge uses (injectable for tests). */
export interface EventSourceLike {
  onmessage: ((event: MessageEvent<string>) => void) | null
  onerror: ((event: Event) => void) | null
  /** Called when the stream opens, and again each time it reconnects by itself after an error. */
  onopen?: ((event: Event) => void) | null
  close(): void
}

/**
 * The contract's `Bridge` plus a reconnection hook: events sent while the stream was down are lost,
 * so subscribers ask the services for the current state again.
 */
export interface HttpBridge extends Bridge {
  /** Calls `listener` each time the event stream comes back after an error; returns the unsubscribe. */
  onReconnect(listener: () => void): () => void
}

export interface HttpBridgeOptions {
  /** Access token handed to the page as `#token=...`. */
  token: string
  /** Origin and path prefix of the server; '' means the page's own origin. */
  baseUrl?: string
  fetch?: typeof globalThis.fetch
  createEventSource?: (url: string) => EventSourceLike
}

/**
 * The bridge for serve mode: routes over `POST /api/invoke`, events over one shared `EventSource`.
 * Inputs are validated before anything is sent and outputs after they arrive, with the same zod
 * schemas the server and the preload use.
 */
export function createHttpBridge(options: HttpBridgeOptions): HttpBridge {
  const baseUrl = options.baseUrl ?? ''
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  const createEventSource =
    options.createEventSource ?? ((url: string) => new EventSource(url) as EventSourceLike)
  const listeners = createEventListeners()
  const reconnectListeners = new Set<() => void>()
  let source: EventSourceLike | null = null

  const invoke = createInvoke(async (name, input) => {
    let response: Response
    try {
      response = await doFetch(`${baseUrl}/api/invoke`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${options.token}`,
        },
        body: JSON.stringify({ name, input }),
      })
    } catch (cause) {
      throw new Error(`Cannot reach the InkLab server: ${(cause as Error).message}`)
    }
    try {
      return (await response.json()) as unknown
    } catch {
      throw new Error(`The InkLab server answered ${response.status} ${response.statusText}`.trim())
    }
  })

  function ensureSource(): void {
    if (source) return
    const url = `${baseUrl}/api/events?token=${encodeURIComponent(options.token)}`
    source = createEventSource(url)
    source.onmessage = (event) => {
      let message: unknown
      try {
        message = JSON.parse(event.data) as unknown
      } catch {
        return // not JSON: not one of ours
      }
      listeners.deliver(message)
    }
    let dropped = false
    source.onerror = () => {
      dropped = true
    }
    source.onopen = () => {
      if (!dropped) return
      dropped = false
      for (const listener of [...reconnectListeners]) listener()
    }
  }

  function on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void) {
    const remove = listeners.add(name, listener)
    ensureSource()
    return () => {
      remove()
      if (listeners.size > 0) return
      source?.close()
      source = null
    }
  }

  function onReconnect(listener: () => void): () => void {
    reconnectListeners.add(listener)
    return () => reconnectListeners.delete(listener)
  }

  return { invoke, on, onReconnect }
}
