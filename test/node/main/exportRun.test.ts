import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { exportRun, type ExportInput } from '../../../src/main/services/exportRun'
import { makeTmpDir } from '../helpers/tmpDir'
import { testMetadata } from '../helpers/modelFixtures'
import { writeModelFolder } from './helpers/fakeEngine'

let dir: string
let cleanup: () => Promise<void>

beforeEach(async () => {
  ;({ dir, cleanup } = await makeTmpDir('inklab-export-'))
})
afterEach(() => cleanup())

async function input(): Promise<ExportInput> {
  const modelDir = join(dir, 'model')
  await writeModelFolder(modelDir, testMetadata())
  return {
    modelDir,
    evaluation: null,
    run: {
      id: 'run-1',
      name: 'Digits',
      state: 'completed',
      datasetId: 'd',
      datasetName: 'digits',
      preset: 'fast',
      createdAt: '2026-01-01T00:00:00.000Z',
      hasModel: true,
      builtin: false,
      config: {
        preset: 'fast',
        epochs: 1,
        batchSize: 32,
        learningRate: 0.01,
        lrSchedule: 'constant',
        validationSplit: 0.1,
        augmentation: { enabled: false, rotation: 10, zoom: 0.1, shift: 2 },
        earlyStoppingPatience: 0,
        seed: 1,
        limit: 0,
        backend: 'auto',
      },
      labels: ['a', 'b'],
      history: [],
    },
  }
}

describe('exportRun', () => {
  it('writes the model and the report into one new folder', async () => {
    const out = join(dir, 'exports')
    const result = await exportRun(await input(), out)
    expect(await readdir(out)).toEqual(['inklab-digits-run-1'])
    expect(result.files).toEqual(
      expect.arrayContaining(['model/model.json', 'report/metrics.json', 'report/report.html']),
    )
  })

  it('leaves nothing behind when the disk fills up half-way', async () => {
    const out = join(dir, 'exports')
    await mkdir(out)
    await writeFile(join(out, 'earlier.txt'), 'kept')
    let written = 0
    const fillsUp = async (path: string, data: string): Promise<void> => {
      if (++written === 3) {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
          path,
        })
      }
      await writeFile(path, data)
    }
    await expect(exportRun(await input(), out, fillsUp)).rejects.toMatchObject({
      name: 'FileSystemError',
      message: expect.stringMatching(/: the disk is full$/),
    })
    expect(await readdir(out)).toEqual(['earlier.txt'])
  })
})
