import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { build, type BuildOptions } from 'esbuild'

const ROOT = resolve(__dirname, '../../..')

/**
 * Bundles `entry` (with the code it imports, from the current sources) into
 * `node_modules/.cache/<cacheDir>/<name>-<pid>.cjs` as CommonJS for Node 20 (so its packages, left
 * external, resolve from the project's node_modules) and returns the bundle's path. `options` adds
 * to esbuild's (a `define`, a `banner`).
 */
export async function bundleForNode(
  entry: string,
  cacheDir: string,
  name: string,
  options: BuildOptions = {},
): Promise<string> {
  const dir = join(ROOT, 'node_modules', '.cache', cacheDir)
  await mkdir(dir, { recursive: true })
  const outfile = join(dir, `${name}-${process.pid}.cjs`)
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    tsconfig: join(ROOT, 'tsconfig.node.json'),
    logLevel: 'warning',
    ...options,
  })
  return outfile
}

/**
 * Bundles the child-process script `test/node/helpers/children/<name>.ts` into
 * `node_modules/.cache/inklab-test-children/`, so a test can run it with `node` and kill it.
 */
export function buildChild(name: string): Promise<string> {
  return bundleForNode(join(__dirname, 'children', `${name}.ts`), 'inklab-test-children', name)
}
