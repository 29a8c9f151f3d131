import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { build } from 'esbuild'

const ROOT = resolve(__dirname, '../../../..')

/**
 * Bundles the engine host entry from the current sources into
 * `node_modules/.cache/inklab-main-test/` (so its packages resolve from the project's
 * node_modules), the way electron-vite builds `out/main/engineHost.js`: CommonJS for Node 20,
 * packages left external, `import.meta.url` mapped to the bundle's own URL. Independent of the rest
 * of the app's build, so these tests never run a stale host nor wait on unrelated code.
 */
export async function buildEngineHost(): Promise<string> {
  const dir = join(ROOT, 'node_modules', '.cache', 'inklab-main-test')
  await mkdir(dir, { recursive: true })
  const outfile = join(dir, `engineHost-${process.pid}.cjs`)
  await build({
    entryPoints: [join(ROOT, 'src/engine/host/processEntry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    tsconfig: join(ROOT, 'tsconfig.node.json'),
    define: { 'import.meta.url': '__inklabImportMetaUrl' },
    banner: {
      js: 'const __inklabImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
    },
    logLevel: 'warning',
  })
  return outfile
}
