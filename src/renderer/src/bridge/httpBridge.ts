import {
  EVENTS,
  ROUTES,
  isEventName,
  isRouteName,
  type Bridge,
  type EventName,
  type EventPayload,
  type RouteInput,
  type RouteName,
  type RouteOutput,
  type SerializedError,
} from '@shared/contract'

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

/** An error that crossed the HTTP boundary; `file` is set when it concerns one file. */
export class BridgeError extends Error {
  readonly file?: string
  constructor(error: SerializedError) {
    super(error.message)
    this.name = error.name || 'Error'
    if (error.file) this.file = error.file
  }
}

type InvokeResponse = { ok: true; result: unknown } | { ok: false; error: SerializedError }

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .map(
      (issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ` : '') + issue.message,
    )
    .join('; ')
}

function isInvokeResponse(value: unknown): value is InvokeResponse {
  if (!value || typeof value !== 'object') return false
  const body = value as { ok?: unknown; error?: unknown }
  if (body.ok === true) return 'result' in body
  return body.ok === false && !!body.error && typeof body.error === 'object'
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
  const listeners = new Map<EventName, Set<(payload: never) => void>>()
  const reconnectListeners = new Set<() => void>()
  let source: EventSourceLike | null = null

  async function invoke<N extends RouteName>(
    name: N,
    input: RouteInput<N>,
  ): Promise<RouteOutput<N>> {
    if (!isRouteName(name)) throw new Error(`Unknown route: ${String(name)}`)
    const route = ROUTES[name]
    const parsedInput = route.input.safeParse(input)
    if (!parsedInput.success) {
      throw new Error(`Invalid input for ${name}: ${describeIssues(parsedInput.error.issues)}`)
    }
    let response: Response
    try {
      response = await doFetch(`${baseUrl}/api/invoke`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${options.token}`,
        },
        body: JSON.stringify({ name, input: parsedInput.data }),
      })
    } catch (cause) {
      throw new Error(`Cannot reach the InkLab server: ${(cause as Error).message}`)
    }
    let body: unknown
    try {
      body = await response.json()
    } catch {
      throw new Error(`The InkLab server answered ${response.status} ${response.statusText}`.trim())
    }
    if (!isInvokeResponse(body)) {
      throw new Error(`The InkLab server sent an unexpected answer to ${name} (${response.status})`)
    }
    if (!body.ok) throw new BridgeError(body.error)
    const parsedOutput = route.output.safeParse(body.result)
    if (!parsedOutput.success) {
      throw new Error(`Invalid answer from ${name}: ${describeIssues(parsedOutput.error.issues)}`)
    }
    return parsedOutput.data as RouteOutput<N>
  }

  function dispatch(raw: string): void {
    let message: { name?: unknown; payload?: unknown }
    try {
      message = JSON.parse(raw) as { name?: unknown; payload?: unknown }
    } catch {
      return
    }
    if (!isEventName(message.name)) return
    const subscribers = listeners.get(message.name)
    if (!subscribers?.size) return
    const parsed = EVENTS[message.name].payload.safeParse(message.payload)
    if (!parsed.success) return
    for (const listener of [...subscribers]) listener(parsed.data as never)
  }

  function ensureSource(): void {
    if (source) return
    const url = `${baseUrl}/api/events?token=${encodeURIComponent(options.token)}`
    source = createEventSource(url)
    source.onmessage = (event) => dispatch(event.data)
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

  function closeSourceIfUnused(): void {
    for (const set of listeners.values()) if (set.size) return
    source?.close()
    source = null
  }

  function on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void) {
    if (!isEventName(name)) throw new Error(`Unknown event: ${String(name)}`)
    let set = listeners.get(name)
    if (!set) listeners.set(name, (set = new Set()))
    const entry = listener as (payload: never) => void
    set.add(entry)
    ensureSource()
    return () => {
      set.delete(entry)
      closeSourceIfUnused()
    }
  }

  function onReconnect(listener: () => void): () => void {
    reconnectListeners.add(listener)
    return () => reconnectListeners.delete(listener)
  }

  return { invoke, on, onReconnect }
}
