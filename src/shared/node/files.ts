// File helpers for the Node processes (engine, services, CLI): one definition of each. Never
// imported by the preload or the renderer.
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { mkdir, mkdtemp, open, readFile, rename, rm, rmdir, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'

import { errorMessage } from '../errors'

/** What a system error code means, in words a user can act on. */
const FS_PROBLEMS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the location is read-only',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted here',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  ENOENT: 'does not exist',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many files are open',
  ENFILE: 'too many files are open',
  EBUSY: 'the file is in use by another program',
  EIO: 'an input/output error occurred (the disk may be failing)',
  ELOOP: 'too many symbolic links',
  EXDEV: 'cannot move across disks',
}

/** A file-system failure as a user reads it: the path and the problem, with the system's code. */
export class FileSystemError extends Error {
  readonly file: string
  readonly code: string
  /** The problem alone, without the path. */
  readonly problem: string

  constructor(file: string, code: string, problem?: string, options?: { cause?: unknown }) {
    const text = problem ?? FS_PROBLEMS[code] ?? `failed (${code})`
    super(`${file}: ${text}`, options)
    this.name = 'FileSystemError'
    this.file = file
    this.code = code
    this.problem = text
  }
}

/** True when `error` carries one of the system error codes this module can explain. */
export function isKnownFsError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return typeof code === 'string' && code in FS_PROBLEMS
}

/** What a failed file-system call means, without the path: its code in words, else its message. */
export function fsProblem(error: unknown): string {
  if (error instanceof FileSystemError) return error.problem
  return isKnownFsError(error) ? (FS_PROBLEMS[error.code] ?? error.code) : errorMessage(error)
}

/**
 * `error` as a FileSystemError when it is a system error this module can explain (naming `file`,
 * else the path the system reported); anything else is returned unchanged.
 */
export function toFileSystemError(error: unknown, file?: string): unknown {
  if (error instanceof FileSystemError || !isKnownFsError(error)) return error
  const path = file ?? error.path ?? 'a file'
  return new FileSystemError(path, error.code, undefined, { cause: error })
}

/** True when `path` exists (file or folder). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** The nearest of `path` and its ancestors that exists (the root when none does). */
async function nearestExisting(path: string): Promise<{ path: string; isFolder: boolean }> {
  let current = resolve(path)
  for (;;) {
    try {
      const info = await stat(current)
      return { path: current, isFolder: info.isDirectory() }
    } catch (error) {
      // ENOTDIR: an ancestor is a file; walking up finds it and names it.
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw toFileSystemError(error, current)
    }
    const parent = dirname(current)
    if (parent === current) return { path: current, isFolder: false }
    current = parent
  }
}

/**
 * Creates `dir` and its missing parents, one level at a time. (Node 20's `mkdir(..., { recursive:
 * true })` loops forever where the file system refuses, under `/proc` for example.) Failures are
 * FileSystemErrors naming the folder that could not be made.
 */
export async function makeDirs(dir: string): Promise<void> {
  const target = resolve(dir)
  const base = await nearestExisting(target)
  if (!base.isFolder) throw new FileSystemError(base.path, 'ENOTDIR', 'is a file, not a folder')
  if (base.path === target) return
  const missing: string[] = []
  for (let d = target; d !== base.path; d = dirname(d)) missing.push(d)
  for (const d of missing.reverse()) {
    try {
      await mkdir(d)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST' && (await stat(d).catch(() => null))?.isDirectory()) continue
      // ENOENT right after the parent was found: the file system does not take folders here.
      if (code === 'ENOENT')
        throw new FileSystemError(d, code, 'a folder cannot be created here', { cause: error })
      throw toFileSystemError(error, d)
    }
  }
}

/**
 * Checks, before any work, that `dir` can be created or written into: its nearest existing
 * ancestor must be a folder where a new entry can be made (a throwaway folder is created and
 * removed). Read-only disks, paths under a file and refusing file systems fail here.
 */
export async function checkWritableFolder(dir: string): Promise<void> {
  const base = await nearestExisting(dir)
  if (!base.isFolder) throw new FileSystemError(base.path, 'ENOTDIR', 'is a file, not a folder')
  let probe: string
  try {
    probe = await mkdtemp(join(base.path, '.inklab-write-check-'))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO'
    throw new FileSystemError(
      base.path,
      code,
      code === 'ENOENT'
        ? 'nothing can be written here'
        : `nothing can be written here: ${FS_PROBLEMS[code] ?? code}`,
      { cause: error },
    )
  }
  await rmdir(probe).catch(() => undefined)
}

/** Options of `readRegularFile`. */
export interface ReadFileOptions {
  /** Larger files are refused with a FileSystemError (code EFBIG). */
  maxBytes?: number
}

/**
 * Reads a whole file, refusing anything that is not a regular file (a FIFO, socket or device would
 * block or never end) and files over `maxBytes`. The file is opened without blocking, so a FIFO
 * named like an image is refused at once instead of waiting forever for a writer.
 */
export async function readRegularFile(
  path: string,
  options: ReadFileOptions = {},
): Promise<Buffer> {
  let handle
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch (error) {
    throw toFileSystemError(error, path)
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) {
      const what = info.isFIFO()
        ? 'a named pipe (FIFO)'
        : info.isSocket()
          ? 'a socket'
          : info.isDirectory()
            ? 'a folder'
            : 'a device'
      throw new FileSystemError(path, 'ENOTREG', `is ${what}, not a regular file`)
    }
    if (options.maxBytes !== undefined && info.size > options.maxBytes) {
      throw new FileSystemError(
        path,
        'EFBIG',
        `is ${formatBytes(info.size)}, more than the ${formatBytes(options.maxBytes)} accepted`,
      )
    }
    return await handle.readFile()
  } catch (error) {
    throw toFileSystemError(error, path)
  } finally {
    await handle.close()
  }
}

/** A byte count as "12 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

/** Codes Windows gives a rename while another process (antivirus, indexer) holds the file. */
const TRANSIENT_RENAME_CODES = new Set(['EPERM', 'EACCES', 'EBUSY'])
/** Pauses between rename attempts on Windows, in milliseconds (about 0.4 s in all). */
const RENAME_RETRY_DELAYS_MS = [10, 30, 60, 100, 200]

/** Options of `writeFileAtomic`; tests inject a rename and a platform. */
export interface WriteAtomicOptions {
  rename?: (from: string, to: string) => Promise<void>
  platform?: NodeJS.Platform
}

/** Renames `from` over `to`; on Windows, retries briefly while the target is held open. */
export async function renameRetrying(
  from: string,
  to: string,
  options: WriteAtomicOptions = {},
): Promise<void> {
  const move = options.rename ?? rename
  const delays = (options.platform ?? process.platform) === 'win32' ? RENAME_RETRY_DELAYS_MS : []
  for (let attempt = 0; ; attempt++) {
    try {
      await move(from, to)
      return
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (attempt >= delays.length || !code || !TRANSIENT_RENAME_CODES.has(code)) throw error
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]))
    }
  }
}

/** Writes `data` and flushes it to disk before resolving, so a rename after it publishes whole files. */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Writes a file so that readers see either the old content or the new one, never a mix: the data
 * goes to a temporary sibling, is flushed to disk, then renamed over the target.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteAtomicOptions = {},
): Promise<void> {
  await makeDirs(dirname(path))
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFileDurable(tmp, data)
    await renameRetrying(tmp, path, options)
  } catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
}

/** Writes JSON atomically (pretty-printed: these files are meant to be readable). */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`)
}

/** Parses a JSON file; null when it is missing or unreadable. */
export async function readJsonOrNull(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown
  } catch {
    return null
  }
}
