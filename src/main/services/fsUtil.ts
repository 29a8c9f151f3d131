import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'

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
async function renameRetrying(
  from: string,
  to: string,
  options: WriteAtomicOptions,
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

/**
 * Writes a file so that readers see either the old content or the new one, never a mix: the data
 * goes to a temporary sibling, is flushed to disk, then renamed over the target.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteAtomicOptions = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    const handle = await open(tmp, 'w')
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
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

/** True when `path` exists (file or folder). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** A new id: a sortable UTC timestamp and random suffix, e.g. `20260121-130455-9f2c1a`. */
export function newId(prefix = ''): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `${prefix}${stamp}-${randomBytes(3).toString('hex')}`
}

/**
 * Ids name folders: only these characters, so an id can never walk out of its parent folder. Lower
 * case only (generated ids are): on a case-insensitive disk `RUN-x` would name the folder of `run-x`
 * while comparing unequal to it.
 */
const SAFE_ID = /^[a-z0-9][a-z0-9_-]{0,199}$/

/** True when `id` is safe to use as a folder name. */
export function isSafeId(id: string): boolean {
  return SAFE_ID.test(id)
}

/** A readable slug of a name, for ids and export folder names. */
export function slugify(name: string, fallback = 'item'): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase()
    .slice(0, 40)
  return slug || fallback
}

/** Serializes async work per key (writes to one run's files, for example). */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>()

  /** Runs `task` after every task queued before it under `key`. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    const next = previous.then(task, task)
    const tail = next.catch(() => undefined)
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return next
  }

  /** Resolves when every queued task has settled. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()])
  }
}
