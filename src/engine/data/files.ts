import { readFile } from 'node:fs/promises'

import { DatasetError } from './types'

/** Reads a whole input file; a missing or unreadable file becomes a DatasetError naming it. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const problem =
      code === 'ENOENT' ? 'file not found' : `cannot read file (${String(code ?? err)})`
    throw new DatasetError(problem, path, { cause: err })
  }
}
