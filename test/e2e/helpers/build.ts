import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { ensureBuilt } from '../../node/helpers/build'
import { ROOT } from './paths'

/**
 * Builds the app when its output is stale (`ensureBuilt`). With INKLAB_E2E_SKIP_BUILD=1 the specs use
 * whatever is in `out/` as it is (to iterate on a spec while the sources do not build), and say so.
 */
export async function prepareBuild(): Promise<void> {
  if (process.env.INKLAB_E2E_SKIP_BUILD === '1') {
    const cli = join(ROOT, 'out/main/cli.js')
    if (!existsSync(cli))
      throw new Error(`INKLAB_E2E_SKIP_BUILD=1 but ${cli} is missing: build first`)
    console.warn('INKLAB_E2E_SKIP_BUILD=1: testing the existing build in out/, which may be stale')
    return
  }
  await ensureBuilt()
}
