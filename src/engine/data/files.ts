import { FileSystemError, readRegularFile, type ReadFileOptions } from '@shared/node/files'

import { DatasetError } from './types'

/**
 * Reads a whole input file; only regular files are read (a FIFO or device named like an image is
 * refused at once, never waited on), and a missing, unreadable or oversized file becomes a
 * DatasetError naming it.
 */
export async function readInputFile(
  path: string,
  options: ReadFileOptions = {},
): Promise<Uint8Array> {
  try {
    return await readRegularFile(path, options)
  } catch (err) {
    if (!(err instanceof FileSystemError)) throw err
    const problem = err.code === 'ENOENT' ? 'file not found' : err.problem
    throw new DatasetError(problem, path, { cause: err })
  }
}
