import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** The repository root. */
export const ROOT = resolve(__dirname, '../../..')
/**
 * The app under test: this repository, or a built copy of it (with `bin/`, `out/`, `resources/`,
 * `package.json`) named by INKLAB_E2E_APP_ROOT, e.g. to try other bundled resources.
 */
export const APP_ROOT = resolve(process.env.INKLAB_E2E_APP_ROOT ?? ROOT)
/** Where end-to-end specs write screenshots, traces and metrics (git-ignored). */
export const RESULTS_DIR = join(ROOT, 'test-results')
export const SCREENSHOTS_DIR = join(RESULTS_DIR, 'screenshots')
export const TRACES_DIR = join(RESULTS_DIR, 'traces')

/** Creates `dir` (and its parents) and returns it. */
export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true })
  return dir
}

/** A file-name-safe version of a test name. */
export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'test'
  )
}
