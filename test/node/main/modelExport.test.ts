import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import type { HostMethod, HostParams } from '@engine/host/protocol'
import { exportModelFormats } from '../../../src/main/services/modelExport'
import { makeTmpDir } from '../helpers/tmpDir'

let tmp: Awaited<ReturnType<typeof makeTmpDir>>
let modelDir: string

beforeEach(async () => {
  tmp = await makeTmpDir('inklab-model-export-')
  modelDir = join(tmp.dir, 'run', 'model')
  await mkdir(modelDir, { recursive: true })
  for (const name of ['model.json', 'weights.bin', 'metadata.json']) {
    await writeFile(join(modelDir, name), name)
  }
})

afterEach(async () => {
  await tmp.cleanup()
})

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

describe('exportModelFormats', () => {
  it('writes TF.js as a copy of the model folder and asks the engine for Keras and ONNX', async () => {
    const target = join(tmp.dir, 'export')
    await mkdir(target)
    const engine = fakeEngine()
    await exportModelFormats(engine, modelDir, target, ['keras', 'tfjs', 'onnx', 'keras'])
    expect((await readdir(target)).sort()).toEqual(['model', 'model.h5', 'model.onnx'])
    expect((await readdir(join(target, 'model'))).sort()).toEqual([
      'metadata.json',
      'model.json',
      'weights.bin',
    ])
    // Each format once, even when asked twice.
    expect(engine.calls).toEqual([
      { modelDir, format: 'keras', out: join(target, 'model.h5') },
      { modelDir, format: 'onnx', out: join(target, 'model.onnx') },
    ])
    expect(await readFile(join(target, 'model.onnx'), 'utf8')).toBe(`onnx of ${modelDir}`)
  })

  it('removes the export folder when a format fails, and passes the error on', async () => {
    const target = join(tmp.dir, 'export')
    await mkdir(target)
    const engine = fakeEngine(new Error('model.onnx: could not write the export: the disk is full'))
    await expect(exportModelFormats(engine, modelDir, target, ['tfjs', 'onnx'])).rejects.toThrow(
      /the disk is full/,
    )
    expect(await readdir(tmp.dir)).toEqual(['run'])
  })
})
