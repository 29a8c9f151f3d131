import { join } from 'node:path'

import type { DatasetSource } from '@shared/schemas/dataset'

/** How a sample's file is named when it came from a separate test folder (`test:a/1.png`). */
export const TEST_FOLDER_PREFIX = 'test:'

/**
 * Where the file of a sample of an imported folder is on disk: `file` is what the sample
 * recorded (relative to the folder with forward slashes, or `test:`-prefixed for a separate test
 * folder); null when the dataset is not a folder, was uploaded from a browser (its files were
 * removed once imported) or the name would lead out of it.
 */
export function sourcePath(source: DatasetSource, file: string): string | null {
  if (source.kind !== 'folder' || source.upload) return null
  const separate = file.startsWith(TEST_FOLDER_PREFIX)
  const testFolder = source.test && 'folder' in source.test ? source.test.folder : null
  const root = separate ? testFolder : source.path
  const parts = (separate ? file.slice(TEST_FOLDER_PREFIX.length) : file).split('/')
  if (!root || parts.some((part) => part === '..' || part === '' || part === '.')) return null
  return join(root, ...parts)
}
