import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

import { defaultPresetForArg } from '../../../src/cli/datasetArg'
import { makeTmpDir } from '../helpers/tmpDir'

describe('defaultPresetForArg', () => {
  it('gives a folder of class subfolders the robust preset, MNIST and IDX files classic', async () => {
    const { dir, cleanup } = await makeTmpDir()
    try {
      await mkdir(join(dir, 'letters', 'A'), { recursive: true })
      await mkdir(join(dir, 'idx'))
      await writeFile(join(dir, 'idx', 'train-images-idx3-ubyte.gz'), '')
      expect(defaultPresetForArg(join(dir, 'letters'))).toBe('robust')
      expect(defaultPresetForArg(join(dir, 'idx'))).toBe('classic')
      expect(defaultPresetForArg('mnist')).toBe('classic')
      expect(defaultPresetForArg(join(dir, 'missing'))).toBe('classic')
    } finally {
      await cleanup()
    }
  })
})
