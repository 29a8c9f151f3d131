import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

/** The project root: out/main/cli.js -> ../.., or src/cli/*.ts -> ../.. when run from source. */
export function projectRoot(): string {
  let dir = __dirname
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir
    dir = dirname(dir)
  }
  return resolve(__dirname, '..', '..')
}

/** Where the CLI keeps serve-mode runs and datasets (same layout as the app's data folder). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.INKLAB_DATA_DIR) return resolve(env.INKLAB_DATA_DIR)
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'InkLab')
  if (process.platform === 'darwin')
    return join(homedir(), 'Library', 'Application Support', 'InkLab')
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'InkLab')
}

/** The bundled resources (pretrained model). */
export function defaultResourcesDir(): string {
  return join(projectRoot(), 'resources')
}

/** The built renderer served in serve mode. */
export function defaultRendererDir(): string {
  return join(projectRoot(), 'out', 'renderer')
}
