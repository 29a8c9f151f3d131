import { fork } from 'node:child_process'

import { BACKEND_ENV_VAR } from '@engine/host/protocol'
import type { BackendRequest } from '@shared/schemas/backend'
import type { HostExit, HostTransport, HostTransportFactory } from './hostTransport'

/** Options of `forkTransport`. */
export interface ForkTransportOptions {
  /** The built engine host script (`out/main/engineHost.js`). */
  entry: string
  /** Backend the host activates on start (default: `INKLAB_BACKEND` from the environment, else auto). */
  backend?: BackendRequest
  /** Extra environment for the host. */
  env?: NodeJS.ProcessEnv
  /** Node flags for the host (for example a loader in tests). */
  execArgv?: string[]
  /** Where the host's stdout/stderr go (default: this process's). */
  stdio?: 'inherit' | 'ignore'
}

/** Engine hosts as Node child processes (`child_process.fork`), for serve mode and tests. */
export function forkTransport(options: ForkTransportOptions): HostTransportFactory {
  return () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env }
    if (options.backend) env[BACKEND_ENV_VAR] = options.backend
    // Under Electron, process.execPath is the Electron binary: make it behave as plain Node.
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1'
    const stdio = options.stdio ?? 'inherit'
    const child = fork(options.entry, [], {
      env,
      execArgv: options.execArgv ?? [],
      stdio: ['ignore', stdio, stdio, 'ipc'],
      serialization: 'json',
    })
    const exitListeners: ((exit: HostExit) => void)[] = []
    let exited = false
    const finish = (exit: HostExit): void => {
      if (exited) return
      exited = true
      for (const listener of exitListeners) listener(exit)
    }
    child.on('exit', (code, signal) => finish({ code, signal }))
    child.on('error', (error) => {
      // 'error' without a process means it never started; with one, 'exit' follows.
      if (child.pid === undefined || child.exitCode !== null) {
        finish({ code: null, error: error.message })
      }
    })
    const transport: HostTransport = {
      get pid() {
        return child.pid
      },
      send(message) {
        if (child.connected) child.send(message)
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
