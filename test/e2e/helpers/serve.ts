import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { APP_ROOT } from './paths'

/** The line `inklab serve` prints once it listens. */
const URL_LINE = /InkLab is serving at (http:\/\/127\.0\.0\.1:(\d+)\/#token=(\S+))/
const START_TIMEOUT_MS = 60_000
const STOP_GRACE_MS = 5_000

/** A running `inklab serve` child process with its own data folder. */
export interface ServeHandle {
  /** The address to open, token included. */
  url: string
  origin: string
  port: number
  token: string
  /** The fresh INKLAB_DATA_DIR this server uses (removed by `stop()`). */
  dataDir: string
  child: ChildProcess
  /** Everything the server wrote to stderr so far (for failure messages). */
  stderr(): string
  /** Stops the server and its engine host (the whole process group), then removes `dataDir`. */
  stop(): Promise<void>
}

/** Options of `startServe`. */
export interface ServeOptions {
  /** Extra environment for the server (INKLAB_BACKEND, say). */
  env?: NodeJS.ProcessEnv
  /** Keep the data folder after `stop()` (to inspect it). */
  keepDataDir?: boolean
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // A negative pid signals the process group: the server and the engine host it forked.
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

/**
 * Starts `node bin/inklab.mjs serve --port 0` with a fresh temporary INKLAB_DATA_DIR, in its own
 * process group, and resolves once it printed its URL line. Rejects with the server's stderr when it
 * exits or stays silent for a minute.
 */
export async function startServe(options: ServeOptions = {}): Promise<ServeHandle> {
  const dataDir = mkdtempSync(join(tmpdir(), 'inklab-e2e-data-'))
  const child = spawn(
    process.execPath,
    [join(APP_ROOT, 'bin/inklab.mjs'), 'serve', '--port', '0'],
    {
      cwd: APP_ROOT,
      env: { ...process.env, ...options.env, INKLAB_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  )
  const pid = child.pid
  if (pid === undefined) throw new Error('could not start inklab serve')
  // If the test worker dies without running its hooks, do not leave the server behind.
  const onExit = (): void => killGroup(pid, 'SIGKILL')
  process.on('exit', onExit)

  let stderr = ''
  let stdout = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()))

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(pid, 'SIGTERM')
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_GRACE_MS))
      if ((await Promise.race([exited, timer])) === 'timeout') killGroup(pid, 'SIGKILL')
      await exited
    }
    // The engine host may outlive its parent for a moment: make sure the group is gone.
    killGroup(pid, 'SIGKILL')
    process.off('exit', onExit)
    if (!options.keepDataDir) rmSync(dataDir, { recursive: true, force: true })
  }

  const match = await new Promise<RegExpMatchArray>((resolveLine, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`inklab serve printed no URL within ${START_TIMEOUT_MS} ms:\n${stderr}`))
    }, START_TIMEOUT_MS)
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const m = URL_LINE.exec(stdout)
      if (m) {
        clearTimeout(timer)
        resolveLine(m)
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`inklab serve exited (${signal ?? code}) before serving:\n${stderr}`))
    })
  }).catch(async (error: unknown) => {
    await stop()
    throw error
  })

  const url = match[1]!
  const port = Number(match[2])
  return {
    url,
    origin: `http://127.0.0.1:${port}`,
    port,
    token: match[3]!,
    dataDir,
    child,
    stderr: () => stderr,
    stop,
  }
}

/** Calls one route of a running server the way the page does (`POST /api/invoke` with the token). */
export async function invoke<T>(
  server: ServeHandle,
  name: string,
  input: unknown = {},
): Promise<T> {
  const response = await fetch(`${server.origin}/api/invoke`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, input }),
  })
  const body = (await response.json()) as
    { ok: true; result: T } | { ok: false; error: { name: string; message: string } }
  if (!body.ok) throw new Error(`${name} failed: ${body.error.name}: ${body.error.message}`)
  return body.result
}
