// `inklab serve` as a child process with its own data folder, and calls to its HTTP contract: the
// end-to-end specs (test/e2e/helpers/serve.ts) and the benchmarks that drive the app in Chromium.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository this script lives in. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** The line `inklab serve` prints once it listens. */
const URL_LINE = /InkLab is serving at (http:\/\/127\.0\.0\.1:(\d+)\/#token=(\S+))/
const START_TIMEOUT_MS = 60_000
const STOP_GRACE_MS = 5_000

function killGroup(pid, signal) {
  try {
    // A negative pid signals the process group: the server and the engine host it forked.
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

/**
 * Starts `node bin/inklab.mjs serve --port 0` (in `options.appRoot`, by default this repository)
 * with a fresh temporary INKLAB_DATA_DIR, in its own process group, and resolves once it printed
 * its URL line. Rejects with the server's stderr when it exits or stays silent for a minute.
 */
export async function startServe(options = {}) {
  const appRoot = options.appRoot ?? REPO_ROOT
  const dataDir = mkdtempSync(join(tmpdir(), 'inklab-e2e-data-'))
  const child = spawn(process.execPath, [join(appRoot, 'bin/inklab.mjs'), 'serve', '--port', '0'], {
    cwd: appRoot,
    env: { ...process.env, ...options.env, INKLAB_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const pid = child.pid
  if (pid === undefined) throw new Error('could not start inklab serve')
  // If the caller dies without stopping it, do not leave the server behind.
  const onExit = () => killGroup(pid, 'SIGKILL')
  process.on('exit', onExit)

  let stderr = ''
  let stdout = ''
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise((resolveExit) => child.once('exit', () => resolveExit()))

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(pid, 'SIGTERM')
      const timer = new Promise((r) => setTimeout(() => r('timeout'), STOP_GRACE_MS))
      if ((await Promise.race([exited, timer])) === 'timeout') killGroup(pid, 'SIGKILL')
      await exited
    }
    // The engine host may outlive its parent for a moment: make sure the group is gone.
    killGroup(pid, 'SIGKILL')
    process.off('exit', onExit)
    if (!options.keepDataDir) rmSync(dataDir, { recursive: true, force: true })
  }

  const match = await new Promise((resolveLine, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`inklab serve printed no URL within ${START_TIMEOUT_MS} ms:\n${stderr}`))
    }, START_TIMEOUT_MS)
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
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
  }).catch(async (error) => {
    await stop()
    throw error
  })

  const port = Number(match[2])
  return {
    url: match[1],
    origin: `http://127.0.0.1:${port}`,
    port,
    token: match[3],
    dataDir,
    child,
    stderr: () => stderr,
    stop,
  }
}

/** Calls one route of a running server the way the page does (`POST /api/invoke` with the token). */
export async function invoke(server, name, input = {}) {
  const response = await fetch(`${server.origin}/api/invoke`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, input }),
  })
  const body = await response.json()
  if (!body.ok) throw new Error(`${name} failed: ${body.error.name}: ${body.error.message}`)
  return body.result
}
