import { fork } from 'node:child_process'

import { BACKEND_ENV_VAR } from '@engine/host/protocol'
import type { BackendRequest } from '@shared/schemas/backend'

import { childTransport, type HostTransportFactory } from './hostTransport'

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
  /** Where the host's stdout/stderr go: this process's, prefixed (default), or nowhere. */
  stdio?: 'inherit' | 'ignore'
}

/** Engine hosts as Node child processes (`child_process.fork`), for serve mode and tests. */
export function forkTransport(options: ForkTransportOptions): HostTransportFactory {
  return () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env }
    if (options.backend) env[BACKEND_ENV_VAR] = options.backend
    // Under Electron, process.execPath is the Electron binary: make it behave as plain Node.
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1'
    const child = fork(options.entry, [], {
      env,
      execArgv: options.execArgv ?? [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    })
    const forward = (options.stdio ?? 'inherit') === 'inherit'
    return childTransport(
      {
        get pid() {
          return child.pid
        },
        stdout: child.stdout,
        stderr: child.stderr,
        post: (message) => {
          if (child.connected) child.send(message)
        },
        kill: () => child.kill(),
        onSpawn: (listener) => child.once('spawn', listener),
        onMessage: (listener) => child.on('message', listener),
        onExit: (listener) => {
          child.on('exit', (code, signal) => listener({ code, signal }))
          // 'error' without a process means it never started; with one, 'exit' follows.
          child.on('error', (error) => {
            if (child.pid === undefined || child.exitCode !== null) {
              listener({ code: null, error: error.message })
            }
          })
        },
      },
      forward ? { stdout: process.stdout, stderr: process.stderr, prefix: '[engine] ' } : null,
    )
  }
}
