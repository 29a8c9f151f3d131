import { cp, mkdir, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import {
  loadModel,
  MODEL_FILES,
  ModelFileError,
  saveModel,
  type FileWriter,
} from '@engine/io/modelFiles'
import { predictPixels } from '@engine/io/predict'
import { buildModel } from '@engine/model/build'
import { PRESETS } from '@engine/model/presets'
import { testMetadata, randomImages } from '../../helpers/modelFixtures'
import { makeTmpDir } from '../../helpers/tmpDir'
import { useTestBackend } from '../../helpers/backend'

const LABELS = testMetadata().labels
let tmp: { dir: string; cleanup: () => Promise<void> }
const models: tf.LayersModel[] = []

function track<T extends tf.LayersModel>(model: T): T {
  models.push(model)
  return model
}

beforeAll(async () => {
  await useTestBackend()
})

beforeEach(async () => {
  tmp = await makeTmpDir()
})

afterEach(async () => {
  models.splice(0).forEach((m) => m.dispose())
  await tmp.cleanup()
})

describe('saveModel / loadModel', () => {
  it('round-trips a model: identical predictions and metadata', async () => {
    const model = track(buildModel(PRESETS.fast.architecture, 10, 3))
    const dir = join(tmp.dir, 'model')
    const metadata = testMetadata({ architecture: PRESETS.fast.architecture })
    await saveModel(dir, model, metadata)

    expect((await readdir(dir)).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin'])
    const json = JSON.parse(await readFile(join(dir, MODEL_FILES.model), 'utf8'))
    expect(json.format).toBe('layers-model')
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin'])

    const loaded = await loadModel(dir)
    track(loaded.model)
    expect(loaded.metadata).toEqual(metadata)
    const images = randomImages(5)
    expect(predictPixels(loaded.model, images, LABELS)).toEqual(
      predictPixels(model, images, LABELS),
    )
  })

  it('replaces an existing model and leaves no temporary folders', async () => {
    const dir = join(tmp.dir, 'model')
    await saveModel(
      dir,
      track(buildModel({ layers: [{ type: 'flatten' }] }, 10, 1)),
      testMetadata(),
    )
    await saveModel(
      dir,
      track(buildModel({ layers: [{ type: 'flatten' }] }, 10, 2)),
      testMetadata({ name: 'second' }),
    )
    expect((await loadModel(dir).then((m) => (track(m.model), m))).metadata.name).toBe('second')
    expect(await readdir(tmp.dir)).toEqual(['model'])
  })

  it('refuses to replace a folder or a file that is not a model, and leaves it intact', async () => {
    const model = track(buildModel({ layers: [{ type: 'flatten' }] }, 10, 1))
    const folder = join(tmp.dir, 'thesis')
    await mkdir(folder)
    await writeFile(join(folder, 'chapter1.txt'), 'months of work')
    await expect(saveModel(folder, model, testMetadata())).rejects.toThrow(
      /thesis: is not a model folder \(it holds chapter1\.txt\)/,
    )
    expect(await readFile(join(folder, 'chapter1.txt'), 'utf8')).toBe('months of work')

    const file = join(tmp.dir, 'notes.txt')
    await writeFile(file, 'keep me')
    await expect(saveModel(file, model, testMetadata())).rejects.toThrow(/is a file/)
    expect(await readFile(file, 'utf8')).toBe('keep me')

    const empty = join(tmp.dir, 'empty')
    await mkdir(empty)
    await saveModel(empty, model, testMetadata())
    expect((await readdir(empty)).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin'])
    expect((await readdir(tmp.dir)).sort()).toEqual(['empty', 'notes.txt', 'thesis'])
  })

  it('keeps the old model intact when a write fails half-way', async () => {
    const dir = join(tmp.dir, 'model')
    const first = track(buildModel({ layers: [{ type: 'flatten' }] }, 10, 1))
    await saveModel(dir, first, testMetadata({ name: 'first' }))
    const before = await readFile(join(dir, MODEL_FILES.weights))

    let writes = 0
    const failing: FileWriter = async (path, data) => {
      writes += 1
      if (writes === 2) throw new Error('disk full (simulated)')
      await writeFile(path, data)
    }
    const second = track(buildModel({ layers: [{ type: 'flatten' }] }, 10, 2))
    await expect(
      saveModel(dir, second, testMetadata({ name: 'second' }), { writeFile: failing }),
    ).rejects.toThrow(/could not write the model: disk full \(simulated\)/)
    expect(await readdir(tmp.dir)).toEqual(['model'])
    expect(await readFile(join(dir, MODEL_FILES.weights))).toEqual(before)
    const loaded = await loadModel(dir)
    track(loaded.model)
    expect(loaded.metadata.name).toBe('first')
  })

  describe('recovers from a save interrupted between its two renames', () => {
    const flat = (seed: number) => track(buildModel({ layers: [{ type: 'flatten' }] }, 10, seed))

    it('loads the model moved aside when the folder itself is missing', async () => {
      const dir = join(tmp.dir, 'model')
      await saveModel(dir, flat(1), testMetadata({ name: 'aside' }))
      await rename(dir, `${dir}.old-x`)
      const loaded = await loadModel(dir)
      track(loaded.model)
      expect(loaded.metadata.name).toBe('aside')
      expect(await readdir(tmp.dir)).toEqual(['model'])
    })

    it('prefers the newest complete new folder over the old one and incomplete ones', async () => {
      const dir = join(tmp.dir, 'model')
      await saveModel(dir, flat(1), testMetadata({ name: 'old' }))
      await rename(dir, `${dir}.old-a`)
      await saveModel(dir, flat(2), testMetadata({ name: 'new' }))
      await rename(dir, `${dir}.tmp-b`)
      // A temporary folder whose writes never finished, newer than the complete one.
      await mkdir(`${dir}.tmp-c`)
      await writeFile(join(`${dir}.tmp-c`, MODEL_FILES.weights), new Uint8Array(4))
      await utimes(`${dir}.tmp-b`, new Date(1000), new Date(1000))
      const loaded = await loadModel(dir)
      track(loaded.model)
      expect(loaded.metadata.name).toBe('new')
    })

    it('removes stale temporary and old folders after a successful save', async () => {
      const dir = join(tmp.dir, 'model')
      await saveModel(dir, flat(1), testMetadata({ name: 'first' }))
      await cp(dir, `${dir}.old-x`, { recursive: true })
      await rename(dir, `${dir}.tmp-y`)
      await mkdir(join(tmp.dir, 'model-other.tmp-z'))
      await saveModel(dir, flat(2), testMetadata({ name: 'second' }))
      expect((await readdir(tmp.dir)).sort()).toEqual(['model', 'model-other.tmp-z'])
      const loaded = await loadModel(dir)
      track(loaded.model)
      expect(loaded.metadata.name).toBe('second')
    })
  })

  it('refuses invalid metadata before writing anything', async () => {
    const dir = join(tmp.dir, 'model')
    const model = track(buildModel({ layers: [{ type: 'flatten' }] }, 10, 1))
    const bad = { ...testMetadata(), labels: ['only one'] }
    await expect(saveModel(dir, model, bad)).rejects.toThrow(
      /metadata.json: metadata does not match the schema: labels/,
    )
    expect(await readdir(tmp.dir)).toEqual([])
  })

  describe('load errors name the file', () => {
    const dir = (): string => join(tmp.dir, 'model')
    beforeEach(async () => {
      await saveModel(
        dir(),
        track(buildModel({ layers: [{ type: 'flatten' }] }, 10, 1)),
        testMetadata(),
      )
    })

    it('missing file', async () => {
      await rm(join(dir(), MODEL_FILES.weights))
      const error = await loadModel(dir()).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ModelFileError)
      expect((error as ModelFileError).file).toBe(join(dir(), 'weights.bin'))
      expect(String(error)).toMatch(/weights\.bin: file is missing/)
    })

    it('corrupt JSON', async () => {
      await writeFile(join(dir(), MODEL_FILES.model), '{"modelTopology": ')
      await expect(loadModel(dir())).rejects.toThrow(/model\.json: is not valid JSON/)
    })

    it('weights size mismatch', async () => {
      const weights = await readFile(join(dir(), MODEL_FILES.weights))
      await writeFile(join(dir(), MODEL_FILES.weights), weights.subarray(0, weights.length - 4))
      await expect(loadModel(dir())).rejects.toThrow(
        new RegExp(
          `weights\\.bin: is ${weights.length - 4} bytes but model\\.json describes ${weights.length} bytes`,
        ),
      )
    })

    it('metadata that fails the schema', async () => {
      const meta = JSON.parse(await readFile(join(dir(), MODEL_FILES.metadata), 'utf8'))
      delete meta.labels
      await writeFile(join(dir(), MODEL_FILES.metadata), JSON.stringify(meta))
      await expect(loadModel(dir())).rejects.toThrow(
        /metadata\.json: does not match the InkLab model metadata schema: labels/,
      )
    })

    it('a folder that does not exist', async () => {
      await expect(loadModel(join(tmp.dir, 'nope'))).rejects.toThrow(
        /nope\/metadata\.json: file is missing/,
      )
    })
  })
})
