import {
  EVENTS,
  IPC_EVENT_CHANNEL,
  IPC_INVOKE_CHANNEL,
  isEventName,
  isRouteName,
  ROUTES,
  type Bridge,
  type EventName,
  type EventPayload,
  type RouteInput,
  type RouteName,
  type RouteOutput,
  type SerializedError,
} from '@shared/contract'

/** The part of Electron's `ipcRenderer` the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
}

/** What the preload exposes as `window.inklab`. */
export interface PreloadApi extends Bridge {
  /** Absolute path of a dropped file (Electron's `webUtils.getPathForFile`); '' when it has none. */
  getPathForFile(file: File): string
}

/** Dependencies of `createPreloadApi` (Electron's objects in the app, fakes in tests). */
export interface PreloadDeps {
  ipcRenderer: IpcRendererLike
  getPathForFile(file: File): string
}

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 10)
    .map(
      (issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ` : '') + issue.message,
    )
    .join('; ')
}

/** Rebuilds an error sent by main. (Over the context bridge only its message survives.) */
function remoteError(error: SerializedError): Error {
  const rebuilt = new Error(error.message) as Error & { file?: string }
  rebuilt.name = error.name
  if (error.file) rebuilt.file = error.file
  return rebuilt
}

function isDispatchResult(
  value: unknown,
): value is { ok: true; result: unknown } | { ok: false; error: SerializedError } {
  if (typeof value !== 'object' || value === null) return false
  const body = value as { ok?: unknown; error?: unknown }
  return (
    body.ok === true || (body.ok === false && typeof body.error === 'object' && body.error !== null)
  )
}

/**
 * The renderer's only way to main: `invoke` for declared routes (input validated before anything is
 * sent, output validated on return), `on` for declared events (payloads validated), and
 * `getPathForFile` for drag and drop. Frozen; no `ipcRenderer` is reachable from it.
 */
export function createPreloadApi(deps: PreloadDeps): PreloadApi {
  const listeners = new Map<EventName, Set<(payload: never) => void>>()
  let subscribed = false

  const onEvent = (_event: unknown, message: unknown): void => {
    const { name, payload } = (typeof message === 'object' && message !== null ? message : {}) as {
      name?: unknown
      payload?: unknown
    }
    if (!isEventName(name)) return
    const subscribers = listeners.get(name)
    if (!subscribers?.size) return
    const parsed = EVENTS[name].payload.safeParse(payload)
    if (!parsed.success) {
      console.warn(
        `InkLab: dropped a malformed ${name} event: ${describeIssues(parsed.error.issues)}`,
      )
      return
    }
    for (const listener of [...subscribers]) listener(parsed.data as never)
  }

  async function invoke<N extends RouteName>(
    name: N,
    input: RouteInput<N>,
  ): Promise<RouteOutput<N>> {
    if (!isRouteName(name)) throw new Error(`Unknown route: ${String(name)}`)
    const route = ROUTES[name]
    const parsedInput = route.input.safeParse(input ?? {})
    if (!parsedInput.success) {
      throw new Error(`Invalid input for ${name}: ${describeIssues(parsedInput.error.issues)}`)
    }
    const answer = await deps.ipcRenderer.invoke(IPC_INVOKE_CHANNEL, {
      name,
      input: parsedInput.data,
    })
    if (!isDispatchResult(answer)) throw new Error(`Unexpected answer from main to ${name}`)
    if (!answer.ok) throw remoteError(answer.error)
    const parsedOutput = route.output.safeParse(answer.result)
    if (!parsedOutput.success) {
      throw new Error(`Invalid answer from ${name}: ${describeIssues(parsedOutput.error.issues)}`)
    }
    return parsedOutput.data as RouteOutput<N>
  }

  function on<N extends EventName>(
    name: N,
    listener: (payload: EventPayload<N>) => void,
  ): () => void {
    if (!isEventName(name)) throw new Error(`Unknown event: ${String(name)}`)
    if (typeof listener !== 'function') throw new TypeError('listener must be a function')
    let set = listeners.get(name)
    if (!set) listeners.set(name, (set = new Set()))
    const entry = listener as (payload: never) => void
    set.add(entry)
    if (!subscribed) {
      deps.ipcRenderer.on(IPC_EVENT_CHANNEL, onEvent)
      subscribed = true
    }
    return () => {
      set.delete(entry)
      for (const other of listeners.values()) if (other.size) return
      deps.ipcRenderer.removeListener(IPC_EVENT_CHANNEL, onEvent)
      subscribed = false
    }
  }

  function getPathForFile(file: File): string {
    return deps.getPathForFile(file)
  }

  return Object.freeze({ invoke, on, getPathForFile })
}
