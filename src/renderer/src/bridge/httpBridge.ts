import type { Bridge, EventName, EventPayload } from '@shared/contract'
import { createEventListeners, createInvoke, isCallResult } from '@shared/contract/client'
import { RemoteError } from '@shared/errors'

/** The subset of `EventSource` the bridge uses (injectable for tests). */
export interface EventSourceLike {
  onmessage: ((event: MessageEvent<string>) => void) | null
  onerror: ((event: Event) => void) | null
  /** Called when the stream opens, and again each time it reconnects by itself after an error. */
  onopen?: ((event: Event) => void) | null
  close(): void
}

/**
 * The contract's `Bridge` plus a reconnection hook: events sent while the stream was not open are
 * lost, so subscribers ask the services for the current state again.
 */
export interface HttpBridge extends Bridge {
  /**
   * Calls `listener` each time the event stream opens: the first time (a page that asked for the
   * state before that may have missed what happened in between, as after a reload in the middle
   * of a run) and each time it comes back after an error. Returns the unsubscribe.
   */
  onReconnect(listener: () => void): () => void
  /**
   * Sends one file of an upload opened with `dataset.uploadStart` (`PUT /api/upload/...`), its
   * bytes streamed as they are; rejects with the server's reason (too big, not an image...).
   */
  upload(uploadId: string, rel: string, file: Blob, signal?: AbortSignal): Promise<void>
}

export interface HttpBridgeOptions {
  /**
   * Access token handed to the page as `#token=...`, exchanged at once for the session cookie
   * (and sent along with this page's calls); '' after a reload, when the cookie alone signs in.
   */
  token: string
  /** Origin and path prefix of the server; '' means the page's own origin. */
  baseUrl?: string
  fetch?: typeof globalThis.fetch
  createEventSource?: (url: string) => EventSourceLike
}

/**
 * Exchanges the access token for this server's session cookie (`POST /api/session`); resolves
 * either way: a refused token shows up as the first call's "not signed in" error.
 */
export async function openSession(
  token: string,
  options: Pick<HttpBridgeOptions, 'baseUrl' | 'fetch'> = {},
): Promise<boolean> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  try {
    const response = await doFetch(`${options.baseUrl ?? ''}/api/session`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Authorization: `Bearer ${token}` },
    })
    return response.ok
  } catch {
    return false
  }
}

/**
 * The bridge for serve mode: routes over `POST /api/invoke`, events over one shared `EventSource`,
 * both signed in by the session cookie (opened first with the page's token, when it has one).
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
  // Nothing is sent before the cookie is set: the event stream can only sign in with it.
  const session: Promise<unknown> = options.token
    ? openSession(options.token, { baseUrl, fetch: doFetch })
    : Promise.resolve()

  const invoke = createInvoke(async (name, input) => {
    await session
    let response: Response
    try {
      response = await doFetch(`${baseUrl}/api/invoke`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'Content-Type': 'application/json',
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
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

  let opening = false
  function ensureSource(): void {
    if (source || opening) return
    opening = true
    void session.then(() => {
      opening = false
      // Every listener may have gone while the session opened.
      if (!source && listeners.size > 0) startSource()
    })
  }

  function startSource(): void {
    source = createEventSource(`${baseUrl}/api/events`)
    source.onmessage = (event) => {
      let message: unknown
      try {
        message = JSON.parse(event.data) as unknown
      } catch {
        return // not JSON: not one of ours
      }
      listeners.deliver(message)
    }
    // Not open yet counts as down: what was sent before the first open is missed too.
    let down = true
    source.onerror = () => {
      down = true
    }
    source.onopen = () => {
      if (!down) return
      down = false
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

  async function upload(
    uploadId: string,
    rel: string,
    file: Blob,
    signal?: AbortSignal,
  ): Promise<void> {
    await session
    const path = [uploadId, ...rel.split('/')].map(encodeURIComponent).join('/')
    let response: Response
    try {
      response = await doFetch(`${baseUrl}/api/upload/${path}`, {
        method: 'PUT',
        credentials: 'same-origin',
        headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
        body: file,
        ...(signal ? { signal } : {}),
      })
    } catch (cause) {
      if (signal?.aborted) throw cause
      throw new Error(`Cannot reach the InkLab server: ${(cause as Error).message}`)
    }
    const answer = (await response.json().catch(() => null)) as unknown
    if (!isCallResult(answer)) {
      throw new Error(`The InkLab server answered ${response.status} ${response.statusText}`.trim())
    }
    if (!answer.ok) throw new RemoteError(answer.error)
  }

  return { invoke, on, onReconnect, upload }
}
