import { serializeError } from '@shared/errors'

import {
  isToHostMessage,
  type EngineHostApi,
  type FromHostMessage,
  type HostCall,
  type HostMethod,
} from './protocol'

/** The receiving end of the host's channel. */
export interface HostServer {
  /** Handles one message from the services (a request, or a cancel). */
  receive(message: unknown): void
  /** Aborts every call in progress (the process is going away). */
  dispose(): void
}

/**
 * Serves `api` over a message channel: each request becomes a call with its own AbortSignal (a
 * `cancel` message aborts it) and progress channel, and its answer or error goes back under the
 * request's id. Messages wait for `ready` (the backend starting) and are handled in order. The
 * methods a request may name are exactly `api`'s own.
 */
export function serveHost(
  api: EngineHostApi,
  send: (message: FromHostMessage) => void,
  ready: Promise<unknown> = Promise.resolve(),
): HostServer {
  const calls = new Map<number, AbortController>()

  function handle(message: unknown): void {
    if (!isToHostMessage(message)) {
      console.error('engine host: ignoring a message that is not a request')
      return
    }
    if (message.type === 'cancel') {
      calls.get(message.id)?.abort()
      return
    }
    const { id, method, params } = message
    if (!Object.hasOwn(api, method)) {
      send({
        type: 'response',
        id,
        error: { name: 'UnknownMethod', message: `the engine host has no method "${method}"` },
      })
      return
    }
    const controller = new AbortController()
    calls.set(id, controller)
    const call: HostCall<unknown> = {
      signal: controller.signal,
      progress: (value) => {
        if (calls.has(id)) send({ type: 'progress', id, value })
      },
    }
    // Each method narrows its params by name; the wire carries them as unknown.
    const run = api[method as HostMethod] as (p: unknown, c: HostCall<unknown>) => Promise<unknown>
    Promise.resolve()
      .then(() => run(params, call))
      .then(
        (result) => send({ type: 'response', id, result }),
        (error: unknown) =>
          send({ type: 'response', id, error: serializeError(error, { stack: true }) }),
      )
      .finally(() => calls.delete(id))
  }

  return {
    receive(message) {
      void ready.then(
        () => handle(message),
        () => handle(message),
      )
    },
    dispose() {
      for (const controller of calls.values()) controller.abort()
      calls.clear()
    },
  }
}
