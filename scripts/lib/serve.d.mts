import type { ChildProcess } from 'node:child_process'

/** The repository the script lives in. */
export declare const REPO_ROOT: string

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
  /** The app to serve (with `bin/`, `out/`, `resources/`); by default this repository. */
  appRoot?: string
  /** Extra environment for the server (INKLAB_BACKEND, say). */
  env?: NodeJS.ProcessEnv
  /** Keep the data folder after `stop()` (to inspect it). */
  keepDataDir?: boolean
}

/** Starts `inklab serve --port 0` with a fresh data folder; resolves once it listens. */
export declare function startServe(options?: ServeOptions): Promise<ServeHandle>

/** Calls one route of a running server the way the page does. */
export declare function invoke<T>(server: ServeHandle, name: string, input?: unknown): Promise<T>
