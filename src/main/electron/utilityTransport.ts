import { utilityProcess } from 'electron'

import { BACKEND_ENV_VAR } from '@engine/host/protocol'
import type { BackendRequest } from '@shared/schemas/backend'

import { childTransport, type HostTransportFactory } from '../services/hostTransport'

/** Options of `utilityTransport`. */
export interface UtilityTransportOptions {
  /** The built engine host script (`out/main/engineHost.js`). */
  entry: string
  backend?: BackendRequest
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
    return childTransport(
      {
        get pid() {
          return child.pid
        },
        stdout: child.stdout,
        stderr: child.stderr,
        post: (message) => child.postMessage(message),
        kill: () => child.kill(),
        onSpawn: (listener) => child.on('spawn', listener),
        onMessage: (listener) => child.on('message', listener),
        onExit: (listener) => child.on('exit', (code: number) => listener({ code })),
      },
      { stdout: process.stdout, stderr: process.stderr, prefix: '[engine] ' },
    )
  }
}
