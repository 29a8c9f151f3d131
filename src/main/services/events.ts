import type { EventName, EventPayload } from '@shared/contract'

/** One contract event as it travels to the renderer: `{ name, payload }`. */
export type AppEvent = { [N in EventName]: { name: N; payload: EventPayload<N> } }[EventName]

/** Receives every event the services emit. */
export type AppEventListener = (event: AppEvent) => void

/**
 * The services' event stream, shared by both transports: the Electron window subscribes and
 * forwards over IPC, the HTTP server subscribes and forwards over Server-Sent Events.
 */
export class EventHub {
  private readonly listeners = new Set<AppEventListener>()

  /** Subscribes to every event; returns the unsubscribe function. */
  on(listener: AppEventListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Emits one event to every subscriber; a failing subscriber does not stop the others. */
  emit<N extends EventName>(name: N, payload: EventPayload<N>): void {
    const event = { name, payload } as AppEvent
    for (const listener of [...this.listeners]) {
      try {
        listener(event)
      } catch (error) {
        console.error(`InkLab: an event listener failed on ${name}:`, error)
      }
    }
  }
}
