import { join, resolve } from 'node:path'

import { bundleForNode } from '../../helpers/buildChild'

const ROOT = resolve(__dirname, '../../../..')

/**
 * Bundles the engine host entry from the current sources into
 * `node_modules/.cache/inklab-main-test/` (so its packages resolve from the project's
 * node_modules), the way electron-vite builds `out/main/engineHost.js`: CommonJS for Node 20,
 * packages left external, `import.meta.url` mapped to the bundle's own URL. Independent of the rest
 * of the app's build, so these tests never run a stale host nor wait on unrelated code.
 */
export function buildEngineHost(): Promise<string> {
  return bundleForNode(
    join(ROOT, 'src/engine/host/processEntry.ts'),
    'inklab-main-test',
    'engineHost',
    {
      define: { 'import.meta.url': '__inklabImportMetaUrl' },
      banner: {
        js: 'const __inklabImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
      },
    },
  )
}
