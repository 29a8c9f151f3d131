import { randomBytes } from 'node:crypto'

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
