import { utilityProcess } from 'electron'

import { BACKEND_ENV_VAR, type ToHostMessage } from '@engine/host/protocol'
import type { BackendRequest } from '@shared/schemas/backend'

import type { HostExit, HostTransport, HostTransportFactory } from '../services/hostTransport'

/** Options of `utilityTransport`. */
export interface UtilityTransportOptions {
  /** The built engine host script (`out/main/engineHost.js`). */
  entry: string
  backend?: BackendRequest
}

/** Prefixes each line of the host's output so it can be told apart in the app's log. */
function forward(stream: NodeJS.ReadableStream | null, to: NodeJS.WriteStream): void {
  stream?.on('data', (chunk: Buffer | string) => {
    const text = chunk.toString()
    to.write(text.replace(/^(?=.)/gm, '[engine] '))
  })
}

/** Engine hosts as Electron utility processes (Chromium's service sandbox for Node workloads). */
export function utilityTransport(options: UtilityTransportOptions): HostTransportFactory {
  return () => {
    const env: Record<string, string | undefined> = { ...process.env }
    if (options.backend) env[BACKEND_ENV_VAR] = options.backend
    const child = utilityProcess.fork(options.entry, [], {
      serviceName: 'InkLab engine',
      stdio: 'pipe',
      env,
    })
    forward(child.stdout, process.stdout)
    forward(child.stderr, process.stderr)
    // Messages sent before the process has spawned wait here.
    let spawned = false
    let exited = false
    const queue: ToHostMessage[] = []
    const exitListeners: ((exit: HostExit) => void)[] = []
    child.on('spawn', () => {
      spawned = true
      for (const message of queue.splice(0)) child.postMessage(message)
    })
    child.on('exit', (code: number) => {
      exited = true
      for (const listener of exitListeners) listener({ code })
    })
    const transport: HostTransport = {
      get pid() {
        return child.pid
      },
      send(message) {
        if (exited) return
        if (spawned) child.postMessage(message)
        else queue.push(message)
      },
      onMessage(listener) {
        child.on('message', listener)
      },
      onExit(listener) {
        exitListeners.push(listener)
      },
      kill() {
        if (!exited) child.kill()
      },
    }
    return transport
  }
}
