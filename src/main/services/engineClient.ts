import {
  isFromHostMessage,
  RemoteError,
  type FromHostMessage,
  type HostEvent,
  type HostMethod,
  type HostParams,
  type HostResult,
} from '@engine/host/protocol'
import type { BackendInfo } from '@shared/schemas/backend'

import type { HostExit, HostTransport, HostTransportFactory } from './hostTransport'

/** What the app knows about the engine host right now (the `engine.status` event payload). */
export interface EngineStatus {
  running: boolean
  backend: BackendInfo | null
  error?: string
}

/** Options of `EngineClient`. */
export interface EngineClientOptions {
  createTransport: HostTransportFactory
  /** Events the host emits on its own (progress, state). */
  onEvent?: (event: HostEvent) => void
  /** Called whenever `status` changes. */
  onStatus?: (status: EngineStatus) => void
  /** Called when the host exits without being asked to (after pending calls were rejected). */
  onCrash?: (exit: HostExit, message: string) => void
}

interface Pending {
  method: HostMethod
  resolve(result: unknown): void
  reject(error: Error): void
}

/** One started host process and what is waiting on it. */
interface HostProcess {
  transport: HostTransport
  ready: Promise<void>
  pending: Map<number, Pending>
  stopping: boolean
}

/** Describes how a host ended, for users. */
export function describeExit(exit: HostExit): string {
  if (exit.error) return `the engine process could not start: ${exit.error}`
  if (exit.signal) return `the engine process was stopped by signal ${exit.signal}`
  return `the engine process exited unexpectedly (exit code ${exit.code ?? 'unknown'})`
}

/**
 * The services' side of the engine host: typed request/response over a `HostTransport`, host events
 * forwarded, and the process (re)started on demand, so a crash fails what was in flight and the next
 * call simply starts a fresh host.
 */
export class EngineClient {
  private readonly options: EngineClientOptions
  private host: HostProcess | null = null
  private closed = false
  private nextId = 1
  private current: EngineStatus = { running: false, backend: null }

  constructor(options: EngineClientOptions) {
    this.options = options
  }

  /** Whether a host runs, its backend, and the last crash message. */
  get status(): EngineStatus {
    return this.current
  }

  /** True while a host process exists (started or starting). */
  get started(): boolean {
    return this.host !== null
  }

  /** The host process id, when one runs (tests use it to simulate a crash). */
  get pid(): number | undefined {
    return this.host?.transport.pid
  }

  /** Starts the host if needed and resolves once it reported its backend. */
  async start(): Promise<void> {
    if (this.closed) throw new Error('the engine client is closed')
    await this.ensureHost().ready
  }

  /** Sends one request to the host (starting it if needed) and resolves with its answer. */
  async call<M extends HostMethod>(method: M, params: HostParams<M>): Promise<HostResult<M>> {
    if (this.closed) throw this.stoppedError(method)
    const host = this.ensureHost()
    await host.ready
    if (this.host !== host) throw this.stoppedError(method)
    const id = this.nextId++
    return new Promise<HostResult<M>>((resolve, reject) => {
      host.pending.set(id, {
        method,
        resolve: (result) => resolve(result as HostResult<M>),
        reject,
      })
      try {
        // The union of request shapes is keyed by method; this object is one of them.
        host.transport.send({ type: 'request', id, method, params } as never)
      } catch (error) {
        host.pending.delete(id)
        reject(error instanceof Error ? error : new Error(String(error)))
      }
    })
  }

  /** Stops the host on purpose; pending calls are rejected and the next call starts a new one. */
  stop(): void {
    const host = this.host
    if (!host) return
    host.stopping = true
    host.transport.kill()
  }

  /**
   * Stops the host for good (app quit, server close) and resolves once it has exited, or after
   * `timeoutMs` if it does not.
   */
  async close(timeoutMs = 3000): Promise<void> {
    this.closed = true
    const host = this.host
    if (!host) return
    const exited = new Promise<void>((resolve) => host.transport.onExit(() => resolve()))
    this.stop()
    await Promise.race([
      exited,
      new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ])
  }

  private stoppedError(method: HostMethod): Error {
    const error = new Error(`the engine process stopped while answering ${method}`)
    error.name = 'EngineStopped'
    return error
  }

  private setStatus(status: EngineStatus): void {
    this.current = status
    this.options.onStatus?.(status)
  }

  private ensureHost(): HostProcess {
    if (this.host) return this.host
    const transport = this.options.createTransport()
    let markReady!: () => void
    let failReady!: (error: Error) => void
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve
      failReady = reject
    })
    // A failed start is reported to whoever awaits it; nobody may be waiting yet.
    ready.catch(() => undefined)
    const host: HostProcess = { transport, ready, pending: new Map(), stopping: false }
    this.host = host
    transport.onMessage((message) => {
      if (!isFromHostMessage(message)) return
      this.receive(host, message, markReady)
    })
    transport.onExit((exit) => {
      if (this.host === host) this.host = null
      const message = describeExit(exit)
      const error = new Error(host.stopping ? 'the engine process was stopped' : message)
      error.name = 'EngineStopped'
      failReady(error)
      for (const [id, pending] of host.pending) {
        host.pending.delete(id)
        const failure = new Error(`${message} while answering ${pending.method}`)
        failure.name = 'EngineStopped'
        pending.reject(host.stopping ? error : failure)
      }
      if (host.stopping) {
        this.setStatus({ running: false, backend: null })
      } else {
        this.setStatus({ running: false, backend: null, error: message })
        this.options.onCrash?.(exit, message)
      }
    })
    return host
  }

  private receive(host: HostProcess, message: FromHostMessage, markReady: () => void): void {
    switch (message.type) {
      case 'ready':
        this.setStatus({
          running: true,
          backend: message.backend,
          ...(message.error ? { error: message.error.message } : {}),
        })
        markReady()
        return
      case 'response': {
        const pending = host.pending.get(message.id)
        if (!pending) return
        host.pending.delete(message.id)
        if ('error' in message) pending.reject(new RemoteError(message.error))
        else pending.resolve(message.result)
        return
      }
      case 'event':
        if (message.event.name === 'backend') {
          this.setStatus({ running: true, backend: message.event.payload })
        }
        this.options.onEvent?.(message.event)
        return
    }
  }
}
