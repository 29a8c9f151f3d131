import {
  isFromHostMessage,
  type FromHostMessage,
  type HostMethod,
  type HostParams,
  type HostProgress,
  type HostResult,
} from '@engine/host/protocol'
import { RemoteError } from '@shared/errors'
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
  /** Called whenever `status` changes. */
  onStatus?: (status: EngineStatus) => void
}

/** What travels with one call besides its params. */
export interface CallOptions<P> {
  /** Aborting cancels the call in the host (a run stops, an import ends, an evaluation is dropped). */
  signal?: AbortSignal
  /** Hears the call's progress reports. */
  onProgress?: (progress: P) => void
}

/** The host went away while a call was waiting for it; `reason` says how it ended. */
export class EngineStoppedError extends Error {
  readonly reason: string

  constructor(reason: string, method?: HostMethod) {
    super(method ? `${reason} while answering ${method}` : reason)
    this.name = 'EngineStopped'
    this.reason = reason
  }
}

interface Pending {
  method: HostMethod
  resolve(result: unknown): void
  reject(error: Error): void
  onProgress?: (progress: never) => void
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
  const base = exit.error
    ? `the engine process could not start: ${exit.error}`
    : exit.signal
      ? `the engine process was stopped by signal ${exit.signal}`
      : `the engine process exited unexpectedly (exit code ${exit.code ?? 'unknown'})`
  return exit.lastOutput ? `${base}; its last words: ${exit.lastOutput}` : base
}

function abortError(): Error {
  const error = new Error('the call was cancelled')
  error.name = 'AbortError'
  return error
}

/**
 * The services' side of the engine host: typed calls (cancellation and progress travel with
 * each call) over a `HostTransport`, and the process (re)started on demand, so a crash fails what
 * was in flight and the next call simply starts a fresh host.
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

  /**
   * Calls one host method (starting the host if needed) and resolves with its answer. Aborting
   * `options.signal` cancels the call in the host, which answers as the method decides (a run
   * ends as cancelled, an import fails as cancelled).
   */
  async call<M extends HostMethod>(
    method: M,
    params: HostParams<M>,
    options: CallOptions<HostProgress<M>> = {},
  ): Promise<HostResult<M>> {
    if (this.closed) throw new EngineStoppedError('the engine process was stopped', method)
    if (options.signal?.aborted) throw abortError()
    const host = this.ensureHost()
    await host.ready
    if (this.host !== host) throw new EngineStoppedError('the engine process stopped', method)
    const id = this.nextId++
    return new Promise<HostResult<M>>((resolve, reject) => {
      const onAbort = (): void => host.transport.send({ type: 'cancel', id })
      const settle = (): void => options.signal?.removeEventListener('abort', onAbort)
      host.pending.set(id, {
        method,
        resolve: (result) => {
          settle()
          resolve(result as HostResult<M>)
        },
        reject: (error) => {
          settle()
          reject(error)
        },
        ...(options.onProgress ? { onProgress: options.onProgress as (p: never) => void } : {}),
      })
      try {
        host.transport.send({ type: 'request', id, method, params })
        options.signal?.addEventListener('abort', onAbort, { once: true })
        // Aborted while the host was starting: the 'abort' event has passed already.
        if (options.signal?.aborted) onAbort()
      } catch (error) {
        host.pending.delete(id)
        settle()
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
      const reason = host.stopping ? 'the engine process was stopped' : describeExit(exit)
      failReady(new EngineStoppedError(reason))
      for (const [id, pending] of host.pending) {
        host.pending.delete(id)
        pending.reject(new EngineStoppedError(reason, pending.method))
      }
      if (host.stopping) this.setStatus({ running: false, backend: null })
      else this.setStatus({ running: false, backend: null, error: reason })
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
      case 'backend':
        this.setStatus({ running: true, backend: message.backend })
        return
      case 'progress':
        host.pending.get(message.id)?.onProgress?.(message.value as never)
        return
      case 'response': {
        const pending = host.pending.get(message.id)
        if (!pending) return
        host.pending.delete(message.id)
        // The error keeps the host's stack: whoever logs it logs where it came from.
        if ('error' in message) pending.reject(new RemoteError(message.error))
        else pending.resolve(message.result)
        return
      }
    }
  }
}
