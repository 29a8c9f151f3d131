import { resolve } from 'node:path'

import { FileSystemError, toFileSystemError } from '@shared/node/files'

import { startServer } from '../../main/server'
import { defaultDataDir, defaultRendererDir, defaultResourcesDir } from '../paths'
import { intOption, parseCommandArgs } from '../args'
import { describeError } from '../errors'
import type { Output } from '../output'

export const SERVE_HELP = `inklab serve [--port N] [--data-dir DIR]   (the app's UI in a browser, on 127.0.0.1 only)`

const OPTIONS = {
  port: { type: 'string' },
  'data-dir': { type: 'string' },
} as const

/** `inklab serve`: prints one line with the local URL and its token, then serves until stopped. */
export async function serveCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('serve', argv, OPTIONS)
  const port = intOption('port', values.port, { min: 0, max: 65535 }) ?? 0
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir())
  const server = await startServer({
    port,
    dataDir,
    resourcesDir: defaultResourcesDir(),
    rendererDir: defaultRendererDir(),
  }).catch((error: unknown) => {
    const explained = toFileSystemError(error)
    if (!(explained instanceof FileSystemError)) throw error
    throw new Error(`--data-dir ${describeError(explained)}`, { cause: error })
  })
  // The one line automation waits for: the full URL, token included.
  process.stdout.write(`InkLab is serving at ${server.url}\n`)
  out.info('open that address in a browser on this machine; press Ctrl+C to stop')
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolveStop()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  await server.close()
  return 0
}
