import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import * as tf from '@tensorflow/tfjs'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import {
  checkExportDestination,
  ExportDestinationError,
  ExportError,
  exportModel,
  writeModelExport,
} from '@engine/io/export'
import { loadModel, saveModel } from '@engine/io/modelFiles'
import { predictProbabilities } from '@engine/io/predict'
import { buildModel } from '@engine/model/build'
import { PRESETS } from '@engine/model/presets'
import { randomImages, testMetadata } from '../../../helpers/modelFixtures'
import { makeTmpDir } from '../../../helpers/tmpDir'

let tmp: Awaited<ReturnType<typeof makeTmpDir>>
let model: tf.Sequential

beforeAll(async () => {
  await tf.setBackend('cpu')
  model = buildModel(PRESETS.fast.architecture, 10, 1)
})

afterAll(() => model.dispose())

beforeEach(async () => {
  tmp = await makeTmpDir('inklab-export-')
})

afterEach(async () => {
  await tmp.cleanup()
})

async function refusedWith(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ExportDestinationError)
  return (error as Error).message
}

describe('checkExportDestination', () => {
  it('refuses a folder for a file format, suggesting a file name in it', async () => {
    expect(await refusedWith(checkExportDestination(tmp.dir, 'keras'))).toBe(
      `${tmp.dir}: is a folder; give a file name such as ${join(tmp.dir, 'model.h5')}`,
    )
  })

  it('refuses a path under a file, naming the file', async () => {
    const file = join(tmp.dir, 'notes.txt')
    await writeFile(file, 'mine')
    const message = await refusedWith(checkExportDestination(join(file, 'sub', 'm.onnx'), 'onnx'))
    expect(message).toMatch(new RegExp(`notes\\.txt is a file, not a folder$`))
  })

  it('refuses a name Keras or onnxruntime would not read as the format', async () => {
    expect(await refusedWith(checkExportDestination(join(tmp.dir, 'm.keras'), 'keras'))).toMatch(
      /the file name must end in \.h5 or \.hdf5 for Keras \(\.h5\) export \(keras\.models\.load_model picks/,
    )
    expect(await refusedWith(checkExportDestination(join(tmp.dir, 'm.h5'), 'onnx'))).toMatch(
      /the file name must end in \.onnx for ONNX export$/,
    )
    expect(await refusedWith(checkExportDestination(join(tmp.dir, 'm.onnx'), 'tfjs'))).toMatch(
      /TF\.js export writes a folder/,
    )
  })

  it.runIf(process.platform === 'linux')(
    'refuses a place where nothing can be created, at once (no endless mkdir -p under /proc)',
    async () => {
      expect(await refusedWith(checkExportDestination('/proc/inklab-x/m.onnx', 'onnx'))).toBe(
        '/proc/inklab-x/m.onnx: /proc/inklab-x: a folder cannot be created here',
      )
      expect(await refusedWith(checkExportDestination('/proc/m.h5', 'keras'))).toBe(
        '/proc/m.h5: /proc: nothing can be written here',
      )
    },
  )

  it('creates missing parent folders', async () => {
    const out = join(tmp.dir, 'a', 'b', 'm.onnx')
    await checkExportDestination(out, 'onnx')
    expect(await readdir(join(tmp.dir, 'a'))).toEqual(['b'])
  })
})

describe('writeModelExport', () => {
  it.each(['keras', 'onnx'] as const)(
    '%s: a failure before publishing leaves no file and keeps the one already there',
    async (format) => {
      const out = join(tmp.dir, format === 'keras' ? 'm.h5' : 'm.onnx')
      await writeFile(out, 'previous export')
      let seen = ''
      const failing = writeModelExport(model, testMetadata(), {
        format,
        out,
        beforePublish: async (tmpPath) => {
          seen = tmpPath
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
        },
      })
      expect(await refusedWith(failing)).toBe(
        `${out}: could not write the export: the disk is full`,
      )
      expect(seen).not.toBe('')
      expect(await readdir(tmp.dir)).toEqual([format === 'keras' ? 'm.h5' : 'm.onnx'])
      expect(await readFile(out, 'utf8')).toBe('previous export')
    },
  )

  it('writes nothing when a layer cannot be exported', async () => {
    const odd = tf.sequential({
      layers: [
        tf.layers.averagePooling2d({ inputShape: [28, 28, 1], poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    })
    const out = join(tmp.dir, 'm.onnx')
    await expect(writeModelExport(odd, testMetadata(), { format: 'onnx', out })).rejects.toThrow(
      ExportError,
    )
    expect(await readdir(tmp.dir)).toEqual([])
    odd.dispose()
  })

  it('replaces an earlier export of the same name, and the temp files of killed ones', async () => {
    const out = join(tmp.dir, 'm.onnx')
    await writeFile(out, 'old')
    const killed = join(tmp.dir, '.m.onnx.tmp-0123456789ab')
    const running = join(tmp.dir, '.m.onnx.tmp-ba9876543210')
    await writeFile(killed, 'half')
    await writeFile(running, 'being written')
    const hourAgo = new Date(Date.now() - 3600_000)
    await utimes(killed, hourAgo, hourAgo)
    const result = await writeModelExport(model, testMetadata(), { format: 'onnx', out })
    expect(result).toMatchObject({ format: 'onnx', path: out })
    expect(result.bytes).toBe((await readFile(out)).byteLength)
    // A recent one may belong to an export still running: it stays.
    expect((await readdir(tmp.dir)).sort()).toEqual(['.m.onnx.tmp-ba9876543210', 'm.onnx'])
  })
})

describe('exportModel', () => {
  it('exports a model folder as TF.js: InkLab loads it back with the same predictions', async () => {
    const source = join(tmp.dir, 'run')
    await saveModel(source, model, testMetadata())
    const out = join(tmp.dir, 'exports', 'tfjs')
    const result = await exportModel({ modelDir: source, format: 'tfjs', out })
    expect(result.bytes).toBeGreaterThan(400_000)
    expect((await readdir(out)).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin'])
    const loaded = await loadModel(out)
    const images = Uint8Array.from(randomImages(3).flatMap((i) => Array.from(i)))
    expect(predictProbabilities(loaded.model, images, 3)).toEqual(
      predictProbabilities(model, images, 3),
    )
    loaded.model.dispose()
  })

  it('refuses a TF.js destination that holds other files', async () => {
    const source = join(tmp.dir, 'run')
    await saveModel(source, model, testMetadata())
    const out = join(tmp.dir, 'mine')
    await mkdir(out)
    await writeFile(join(out, 'thesis.tex'), 'x')
    const refused = exportModel({ modelDir: source, format: 'tfjs', out })
    expect(await refusedWith(refused)).toMatch(
      new RegExp(`^${out}: is not a model folder \\(it holds thesis\\.tex\\)`),
    )
    expect(await readFile(join(out, 'thesis.tex'), 'utf8')).toBe('x')
  })

  it('checks the destination before loading the model', async () => {
    await expect(
      exportModel({ modelDir: join(tmp.dir, 'missing'), format: 'keras', out: tmp.dir }),
    ).rejects.toThrow(ExportDestinationError)
  })
})
