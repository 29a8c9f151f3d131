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

export { KeyedQueue } from '@shared/node/keyedQueue'
