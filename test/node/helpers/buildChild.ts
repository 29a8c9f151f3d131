import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { build } from 'esbuild'

const ROOT = resolve(__dirname, '../../..')

/**
 * Bundles the child-process script `test/node/helpers/children/<name>.ts` (with the engine code it
 * imports, from the current sources) into `node_modules/.cache/inklab-test-children/`, so a test
 * can run it with `node` and kill it. Packages stay external and resolve from node_modules.
 */
export async function buildChild(name: string): Promise<string> {
  const dir = join(ROOT, 'node_modules', '.cache', 'inklab-test-children')
  await mkdir(dir, { recursive: true })
  const outfile = join(dir, `${name}-${process.pid}.cjs`)
  await build({
    entryPoints: [join(__dirname, 'children', `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    tsconfig: join(ROOT, 'tsconfig.node.json'),
    logLevel: 'warning',
  })
  return outfile
}
