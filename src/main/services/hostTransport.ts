import { createInterface } from 'node:readline'

import type { ToHostMessage } from '@engine/host/protocol'
import { isTensorFlowNoise } from '@shared/node/tfLog'

/** How an engine host process ended. */
export interface HostExit {
  /** Exit code, when the process exited by itself. */
  code: number | null
  /** Signal that killed it (Node's fork only; Electron reports a code). */
  signal?: string | null
  /** Set when the process could not start at all. */
  error?: string
  /** The last error line the process wrote to stderr: often what it died of. */
  lastOutput?: string
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

/** A child process as both kinds expose it, reduced to what a transport needs. */
export interface HostChild {
  readonly pid: number | undefined
  readonly stdout: NodeJS.ReadableStream | null
  readonly stderr: NodeJS.ReadableStream | null
  post(message: ToHostMessage): void
  kill(): void
  onSpawn(listener: () => void): void
  onMessage(listener: (message: unknown) => void): void
  /** Called when the process ended (possibly more than once: the transport reports the first). */
  onExit(listener: (exit: HostExit) => void): void
}

/** Where a transport sends the host's output; absent: dropped. */
export interface HostOutput {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  /** Put before each line so the host's output can be told apart in the app's log. */
  prefix: string
}

/** A stderr line that says what went wrong. */
const ERROR_LINE = /\b(error|fatal|abort(ed)?|out of memory|panic|segmentation fault)\b/i
/** A stack frame, JavaScript (`at f (file:1:2)`) or native (`1: 0xb8ced1 node::Abort()`). */
const STACK_FRAME = /^(at |\d+: 0x[0-9a-f]+)/i
/** The longest error line a crash report quotes. */
const MAX_QUOTE = 300
/**
 * Copies a stream line by line (UTF-8 decoded across chunk boundaries, so a line or a character
 * split between two chunks stays whole), each line prefixed, but for TensorFlow's start-up
 * chatter (`isTensorFlowNoise`); `onLine` sees every line.
 */
export function forwardLines(
  stream: NodeJS.ReadableStream,
  to: NodeJS.WritableStream | null,
  prefix: string,
  onLine?: (line: string) => void,
): void {
  stream.setEncoding?.('utf8')
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  lines.on('line', (line) => {
    onLine?.(line)
    if (!isTensorFlowNoise(line)) to?.write(`${prefix}${line}\n`)
  })
}

/**
 * The transport over a started child, the same for both process kinds: messages sent before the
 * process has spawned wait for it, the exit is reported once with the last error line the process
 * wrote to stderr, and its output is forwarded whole line by whole line.
 */
export function childTransport(child: HostChild, output: HostOutput | null): HostTransport {
  let lastError: string | null = null
  const keep = (line: string): void => {
    const text = line.trim()
    if (ERROR_LINE.test(text) && !STACK_FRAME.test(text)) lastError = text.slice(0, MAX_QUOTE)
  }
  if (child.stdout) forwardLines(child.stdout, output?.stdout ?? null, output?.prefix ?? '')
  if (child.stderr) forwardLines(child.stderr, output?.stderr ?? null, output?.prefix ?? '', keep)

  let spawned = false
  let exited = false
  const queue: ToHostMessage[] = []
  const exitListeners: ((exit: HostExit) => void)[] = []
  child.onSpawn(() => {
    spawned = true
    for (const message of queue.splice(0)) child.post(message)
  })
  child.onExit((exit) => {
    if (exited) return
    exited = true
    // Let the last output lines arrive before the exit is reported.
    setImmediate(() => {
      const report = lastError ? { ...exit, lastOutput: lastError } : exit
      for (const listener of exitListeners) listener(report)
    })
  })
  return {
    get pid() {
      return child.pid
    },
    send(message) {
      if (exited) return
      if (spawned) child.post(message)
      else queue.push(message)
    },
    onMessage(listener) {
      child.onMessage(listener)
    },
    onExit(listener) {
      exitListeners.push(listener)
    },
    kill() {
      if (!exited) child.kill()
    },
  }
}
