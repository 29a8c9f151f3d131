import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { checkModelDestination, tidyModelFolder } from '@shared/node/modelFolder'

import { writeModelFolder } from '../../main/helpers/fakeEngine'
import { testMetadata } from '../../helpers/modelFixtures'
import { makeTmpDir } from '../../helpers/tmpDir'

let dir: string
let cleanup: () => Promise<void>

beforeEach(async () => {
  ;({ dir, cleanup } = await makeTmpDir('inklab-model-folder-'))
})
afterEach(() => cleanup())

describe('checkModelDestination', () => {
  it('accepts a new folder, an empty one, and one holding only operating-system litter', async () => {
    await checkModelDestination(join(dir, 'new', 'model'))
    await mkdir(join(dir, 'empty'))
    await checkModelDestination(join(dir, 'empty'))
    await mkdir(join(dir, 'mac'))
    await writeFile(join(dir, 'mac', '.DS_Store'), 'Finder was here')
    await checkModelDestination(join(dir, 'mac'))
  })

  it('accepts a model folder InkLab wrote (its metadata says so)', async () => {
    await writeModelFolder(join(dir, 'ours'), testMetadata())
    await checkModelDestination(join(dir, 'ours'))
  })

  it('refuses a TF.js model folder InkLab did not write, and a lone model.json', async () => {
    const foreign = join(dir, 'foreign')
    await mkdir(foreign)
    await writeFile(join(foreign, 'model.json'), '{"modelTopology":{},"weightsManifest":[]}')
    await writeFile(join(foreign, 'weights.bin'), 'weights from elsewhere')
    await expect(checkModelDestination(foreign)).rejects.toThrow(
      /foreign: holds a model InkLab did not write/,
    )
    const lone = join(dir, 'lone')
    await mkdir(lone)
    await writeFile(join(lone, 'model.json'), '{}')
    await expect(checkModelDestination(lone)).rejects.toThrow(/InkLab did not write/)
    // Someone else's metadata.json is not InkLab's either.
    await writeFile(join(lone, 'metadata.json'), '{"format":"something-else"}')
    await expect(checkModelDestination(lone)).rejects.toThrow(/InkLab did not write/)
    expect(await readFile(join(foreign, 'weights.bin'), 'utf8')).toBe('weights from elsewhere')
  })

  it('refuses a folder holding other files, and a file', async () => {
    await mkdir(join(dir, 'docs'))
    await writeFile(join(dir, 'docs', 'thesis.txt'), 'months of work')
    await expect(checkModelDestination(join(dir, 'docs'))).rejects.toThrow(
      /docs: is not a model folder \(it holds thesis\.txt\)/,
    )
    await writeFile(join(dir, 'file'), 'x')
    await expect(checkModelDestination(join(dir, 'file'))).rejects.toThrow(
      /file: exists and is a file/,
    )
  })

  it('names the file when the destination lies under a file', async () => {
    await writeFile(join(dir, 'notes.txt'), 'x')
    await expect(checkModelDestination(join(dir, 'notes.txt', 'model'))).rejects.toThrow(
      /notes\.txt: is a file, not a folder/,
    )
  })

  it.runIf(process.platform === 'linux')(
    'refuses a place where nothing can be created, at once (no endless mkdir under /proc)',
    async () => {
      await expect(checkModelDestination('/proc/inklab-model')).rejects.toThrow(
        /\/proc: nothing can be written here/,
      )
    },
  )
})

describe('tidyModelFolder', () => {
  it('puts back a model a killed save left aside and removes the leftovers', async () => {
    await writeModelFolder(join(dir, 'm.tmp-aaaa'), testMetadata())
    await mkdir(join(dir, 'm.tmp-bbbb'))
    await tidyModelFolder(join(dir, 'm'))
    expect((await readdir(dir)).sort()).toEqual(['m'])
    await mkdir(join(dir, 'm.old-cccc'))
    await tidyModelFolder(join(dir, 'm'))
    expect((await readdir(dir)).sort()).toEqual(['m'])
  })
})
