import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import type { HostMethod, HostParams } from '@engine/host/protocol'
import type { ExportFormat } from '@shared/schemas/export'
import { DEFAULT_AUGMENTATION } from '@shared/schemas/training'
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

/** An engine client that records 'model.export' calls and writes a stand-in file. */
function fakeEngine(fail?: Error) {
  const calls: HostParams<'model.export'>[] = []
  return {
    calls,
    async call<M extends HostMethod>(method: M, params: HostParams<M>): Promise<never> {
      expect(method).toBe('model.export')
      const p = params as HostParams<'model.export'>
      calls.push(p)
      if (fail) throw fail
      await writeFile(p.out, `${p.format} of ${p.modelDir}`)
      return { format: p.format, path: p.out, bytes: 1, seconds: 0 } as never
    },
  }
}

async function input(
  formats: ExportFormat[] = ['tfjs'],
  source = 'folder:digits',
): Promise<ExportInput> {
  const modelDir = join(dir, 'model')
  await writeModelFolder(
    modelDir,
    testMetadata({ dataset: { name: 'digits', source, trainSize: 2, testSize: 0 } }),
  )
  return {
    modelDir,
    evaluation: null,
    formats,
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
        augmentation: { ...DEFAULT_AUGMENTATION },
        earlyStoppingPatience: 0,
        emaDecay: 0,
        members: 1,
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
    const engine = fakeEngine()
    const result = await exportRun(await input(), out, { engine })
    expect(await readdir(out)).toEqual(['inklab-digits-run-1'])
    expect(result.files).toEqual(
      expect.arrayContaining(['model/model.json', 'report/metrics.json', 'report/report.html']),
    )
    expect(engine.calls, 'TF.js is a copy of the folder, not a conversion').toEqual([])
  })

  it('writes TF.js as a copy of the model folder and asks the engine for Keras and ONNX', async () => {
    const out = join(dir, 'exports')
    const engine = fakeEngine()
    const modelDir = join(dir, 'model')
    const result = await exportRun(await input(['keras', 'tfjs', 'onnx', 'keras']), out, {
      engine,
    })
    expect(result.files.filter((f) => !f.startsWith('report/'))).toEqual([
      'model.h5',
      'model.onnx',
      'model/metadata.json',
      'model/model.json',
      'model/weights.bin',
    ])
    // Each format once, even when asked twice; converted inside the hidden folder, then renamed.
    expect(engine.calls.map((c) => [c.modelDir, c.format])).toEqual([
      [modelDir, 'keras'],
      [modelDir, 'onnx'],
    ])
    expect(engine.calls[0]?.out).toMatch(/\.inklab-digits-run-1\.tmp-[0-9a-f]+[\\/]model\.h5$/)
    expect(await readFile(join(result.path, 'model.onnx'), 'utf8')).toBe(`onnx of ${modelDir}`)
  })

  it('shortens a local path older metadata kept in the copy; the run keeps its own as it was', async () => {
    const local = join(dir, 'data', 'digits')
    const out = join(dir, 'exports')
    const result = await exportRun(await input(['tfjs'], `folder:${local}`), out, {
      engine: fakeEngine(),
    })
    const copied = await readFile(join(result.path, 'model', 'metadata.json'), 'utf8')
    expect(JSON.parse(copied).dataset.source).toBe('folder:digits')
    expect(copied).not.toContain(dir)
    expect(await readFile(join(dir, 'model', 'metadata.json'), 'utf8')).toContain(local)
  })

  it('leaves nothing behind when a format fails, and passes the error on', async () => {
    const out = join(dir, 'exports')
    await mkdir(out)
    const engine = fakeEngine(new Error('model.onnx: could not write the export: the disk is full'))
    await expect(exportRun(await input(['tfjs', 'onnx']), out, { engine })).rejects.toThrow(
      /model\.onnx: could not write the export: the disk is full/,
    )
    expect(await readdir(out)).toEqual([])
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
    await expect(
      exportRun(await input(), out, { engine: fakeEngine(), write: fillsUp }),
    ).rejects.toMatchObject({
      name: 'FileSystemError',
      message: expect.stringMatching(/: the disk is full$/),
    })
    expect(await readdir(out)).toEqual(['earlier.txt'])
  })
})
