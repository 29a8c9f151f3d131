import type { z } from 'zod'

import { appEvents } from './app.events'
import { appRoutes } from './app.routes'
import { collectionRoutes } from './collection.routes'
import { datasetRoutes } from './dataset.routes'
import { trainingRoutes } from './training.routes'

export * from './app.events'
export * from './app.routes'
export * from './collection.routes'
export * from './dataset.routes'
export * from './define'
export * from './training.routes'
export type { FieldIssue, SerializedError } from '../errors'

/** Every route the bridge carries, by dotted name. The one contract for IPC and HTTP alike. */
export const ROUTES = {
  ...appRoutes,
  ...datasetRoutes,
  ...collectionRoutes,
  ...trainingRoutes,
} as const
/** Every event the bridge carries, by dotted name. */
export const EVENTS = appEvents

export type Routes = typeof ROUTES
export type RouteName = keyof Routes
export type EventName = keyof typeof EVENTS
export type RouteInput<N extends RouteName> = z.input<Routes[N]['input']>
export type RouteOutput<N extends RouteName> = z.output<Routes[N]['output']>
export type EventPayload<N extends EventName> = z.output<(typeof EVENTS)[N]['payload']>

/** The object the preload exposes as `window.inklab` (and the HTTP client mirrors). */
export interface Bridge {
  invoke<N extends RouteName>(name: N, input: RouteInput<N>): Promise<RouteOutput<N>>
  on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void): () => void
}

/** What the Electron preload exposes as `window.inklab`: the bridge plus a drag-and-drop helper. */
export interface PreloadApi extends Bridge {
  /** Absolute path of a dropped file (Electron's `webUtils.getPathForFile`); '' when it has none. */
  getPathForFile(file: File): string
}

/** True when `name` is a declared route (transports reject anything else). */
export function isRouteName(name: unknown): name is RouteName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(ROUTES, name)
}

/** True when `name` is a declared event. */
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(EVENTS, name)
}

/** IPC channel names used by the Electron transport. */
export const IPC_INVOKE_CHANNEL = 'inklab:invoke'
export const IPC_EVENT_CHANNEL = 'inklab:event'
