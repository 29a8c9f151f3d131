import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ROOT = resolve(__dirname, '../../..')
const OUTPUTS = [
  'out/main/index.js',
  'out/main/cli.js',
  'out/main/engineHost.js',
  'out/preload/index.cjs',
]

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/**
 * Builds the app with electron-vite when its output is missing or older than the sources, so
 * tests that run the real CLI or engine host never exercise stale code.
 */
export async function ensureBuilt(): Promise<void> {
  const outputs = OUTPUTS.map((f) => join(ROOT, f))
  const fresh =
    outputs.every((f) => existsSync(f)) &&
    Math.min(...outputs.map((f) => statSync(f).mtimeMs)) >= newestMtime(join(ROOT, 'src'))
  if (fresh) return
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  )
}
