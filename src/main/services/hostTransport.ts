import type { ToHostMessage } from '@engine/host/protocol'

/** How an engine host process ended. */
export interface HostExit {
  /** Exit code, when the process exited by itself. */
  code: number | null
  /** Signal that killed it (Node's fork only; Electron reports a code). */
  signal?: string | null
  /** Set when the process could not start at all. */
  error?: string
}

/**
 * One running engine host process, however it was started (`child_process.fork` in serve mode,
 * `utilityProcess.fork` in Electron). Messages are plain JSON-compatible objects.
 */
export interface HostTransport {
  send(message: ToHostMessage): void
  onMessage(listener: (message: unknown) => void): void
  /** Called once when the process has exited (or failed to start). */
  onExit(listener: (exit: HostExit) => void): void
  /** Ends the process (a crash from the client's point of view unless it asked for it). */
  kill(): void
  /** The operating-system process id, once known. */
  readonly pid: number | undefined
}

/** Starts a new engine host process. Called again to restart it after a crash. */
export type HostTransportFactory = () => HostTransport
