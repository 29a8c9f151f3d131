import type {
  AppInfo,
  EventName,
  EventPayload,
  RouteInput,
  RouteName,
  RouteOutput,
} from '@shared/contract'

import type { AppBridge } from '@renderer/bridge'

type Handler<N extends RouteName> = (
  input: RouteInput<N>,
) => RouteOutput<N> | Promise<RouteOutput<N>>
export type Handlers = { [N in RouteName]?: Handler<N> }

export interface RecordedCall {
  name: RouteName
  input: unknown
}

/** A bridge for tests: records every invoke, answers from handlers, and lets tests emit events. */
export interface FakeBridge {
  bridge: AppBridge
  calls: RecordedCall[]
  /** Inputs of every call to one route, in order. */
  callsTo<N extends RouteName>(name: N): RouteInput<N>[]
  /** Sets (or replaces) the handler of a route. */
  handle<N extends RouteName>(name: N, handler: Handler<N>): void
  /** Delivers an event to the subscribers, as the preload or the server would. */
  emit<N extends EventName>(name: N, payload: EventPayload<N>): void
  listenerCount(name: EventName): number
  /** Tells the subscribers the event stream came back after a drop, as the HTTP bridge does. */
  reconnect(): void
  /** Files sent with `bridge.upload` (serve mode), in order. */
  uploads: { uploadId: string; rel: string; size: number }[]
}

export const TEST_APP_INFO: AppInfo = {
  version: '0.1.0',
  transport: 'http',
  platform: 'linux',
  dataDir: '/tmp/inklab',
  backend: {
    name: 'wasm',
    requested: 'auto',
    tfjsBackend: 'wasm',
    detail: 'wasm (WebAssembly SIMD)',
    nativeUnavailableReason: 'libtensorflow.so not found',
  },
  nativeDialogs: false,
}

const DEFAULT_HANDLERS: Handlers = {
  'app.info': () => TEST_APP_INFO,
  'dataset.list': () => [],
  'runs.list': () => [],
  'training.current': () => null,
  'evaluation.last': () => null,
  'dataset.find': () => null,
  'dialog.open': () => ({ paths: null }),
}

export function createFakeBridge(handlers: Handlers = {}): FakeBridge {
  const table: Handlers = { ...DEFAULT_HANDLERS, ...handlers }
  const calls: RecordedCall[] = []
  const listeners = new Map<EventName, Set<(payload: never) => void>>()
  const reconnectListeners = new Set<() => void>()
  const uploads: FakeBridge['uploads'] = []

  const bridge: AppBridge = {
    async invoke(name, input) {
      calls.push({ name, input })
      const handler = table[name] as ((input: unknown) => unknown) | undefined
      if (!handler) throw new Error(`No fake handler for ${name}`)
      return (await handler(input)) as never
    },
    on(name, listener) {
      let set = listeners.get(name)
      if (!set) listeners.set(name, (set = new Set()))
      set.add(listener as (payload: never) => void)
      return () => set.delete(listener as (payload: never) => void)
    },
    onReconnect(listener) {
      reconnectListeners.add(listener)
      return () => reconnectListeners.delete(listener)
    },
    async upload(uploadId, rel, file, signal) {
      signal?.throwIfAborted()
      uploads.push({ uploadId, rel, size: file.size })
    },
  }

  return {
    bridge,
    uploads,
    calls,
    callsTo: <N extends RouteName>(name: N) =>
      calls.filter((c) => c.name === name).map((c) => c.input as RouteInput<N>),
    handle: (name, handler) => {
      ;(table as Record<string, unknown>)[name] = handler
    },
    emit: (name, payload) => {
      for (const listener of [...(listeners.get(name) ?? [])]) listener(payload as never)
    },
    listenerCount: (name) => listeners.get(name)?.size ?? 0,
    reconnect: () => {
      for (const listener of [...reconnectListeners]) listener()
    },
  }
}
