// A HostTransport that runs an EngineHost in this process, served by the same `serveHost` as the
// real process, with JSON round trips and async delivery like a real channel, and a `crash()`
// that behaves like the process dying.
import type { EngineApi } from '@engine/host/engineApi'
import { EngineHost } from '@engine/host/engineHost'
import { serveHost } from '@engine/host/hostServer'
import type { FromHostMessage } from '@engine/host/protocol'
import { serializeError } from '@shared/errors'

import type {
  HostExit,
  HostTransport,
  HostTransportFactory,
} from '../../../../src/main/services/hostTransport'

/** A factory of in-process hosts plus handles on the ones it started. */
export interface InProcessHosts {
  factory: HostTransportFactory
  /** How many hosts were started. */
  readonly started: number
  /** Kills the newest host as a crash would (exit code 1). */
  crash(): void
}

/** In-process engine hosts driven by `engine`. */
export function inProcessHosts(engine: EngineApi): InProcessHosts {
  let started = 0
  let latest: { crash(): void } | null = null
  const factory: HostTransportFactory = () => {
    started++
    const messageListeners: ((message: unknown) => void)[] = []
    const exitListeners: ((exit: HostExit) => void)[] = []
    let alive = true
    const deliver = (message: FromHostMessage): void => {
      const copy = JSON.parse(JSON.stringify(message)) as unknown
      setImmediate(() => {
        if (alive) for (const listener of messageListeners) listener(copy)
      })
    }
    const host = new EngineHost({
      engine,
      onBackendChange: (backend) => deliver({ type: 'backend', backend }),
    })
    const ready = host.initBackend('auto').then(
      (backend) => deliver({ type: 'ready', backend }),
      (error: unknown) => deliver({ type: 'ready', backend: null, error: serializeError(error) }),
    )
    const server = serveHost(host.api, deliver, ready)
    const die = (exit: HostExit): void => {
      if (!alive) return
      alive = false
      server.dispose()
      host.dispose()
      setImmediate(() => exitListeners.forEach((listener) => listener(exit)))
    }
    const transport: HostTransport = {
      pid: undefined,
      send(message) {
        if (alive) server.receive(JSON.parse(JSON.stringify(message)) as unknown)
      },
      onMessage: (listener) => messageListeners.push(listener),
      onExit: (listener) => exitListeners.push(listener),
      kill: () => die({ code: null, signal: 'SIGTERM' }),
    }
    latest = { crash: () => die({ code: 1 }) }
    return transport
  }
  return {
    factory,
    get started() {
      return started
    },
    crash: () => latest?.crash(),
  }
}
