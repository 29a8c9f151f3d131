import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'

import { describeIssues, errorMessage } from '@shared/errors'
import { exists, makeDirs, writeFileDurable } from '@shared/node/files'
import {
  checkModelDestination,
  MODEL_FILES,
  ModelFileError,
  recoverModelFolder,
  removeModelLeftovers,
} from '@shared/node/modelFolder'
import { ModelMetadataSchema, type ModelMetadata } from '@shared/schemas/model'
import * as tf from '@tensorflow/tfjs'

export { checkModelDestination, MODEL_FILES, ModelFileError } from '@shared/node/modelFolder'

/** Writes one file; injectable so tests can simulate a failure in the middle of a save. */
export type FileWriter = (path: string, data: Uint8Array | string) => Promise<void>

/** Options of `saveModel`. */
export interface SaveModelOptions {
  /** Writes each file; defaults to a write followed by fsync. */
  writeFile?: FileWriter
}

/** A model loaded from disk with its metadata. */
export interface LoadedModel {
  model: tf.LayersModel
  metadata: ModelMetadata
}

/** Folders of this process whose save is between its renames (recovery waits for them). */
const publishing = new Map<string, Promise<void>>()
/** Temporary folders of saves in progress in this process (cleanup leaves them alone). */
const activeTemps = new Set<string>()

/** Puts back a model folder a killed save left missing, once this process's saves to it are done. */
async function recoverModelDir(dir: string): Promise<void> {
  await publishing.get(resolve(dir))
  await recoverModelFolder(dir, activeTemps)
}

/** Captures the model's TF.js layers artifacts in memory (no file:// handler: that is tfjs-node only). */
async function captureArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) }
    }),
    { includeOptimizer: false },
  )
  if (!captured) throw new Error('the model produced no artifacts to save')
  return captured
}

/**
 * Saves a model folder: `model.json` (TF.js layers format, weights manifest pointing to
 * `weights.bin`), `weights.bin` and `metadata.json` (validated against ModelMetadataSchema).
 * Everything is written to a temporary sibling folder that then replaces `dir` by renames, so a
 * crash or a failed write never leaves a half-written model and never damages the previous one;
 * sibling folders left by saves killed earlier are removed once this one is published.
 */
export async function saveModel(
  dir: string,
  model: tf.LayersModel,
  metadata: ModelMetadata,
  options: SaveModelOptions = {},
): Promise<void> {
  const checked = ModelMetadataSchema.safeParse(metadata)
  if (!checked.success) {
    throw new ModelFileError(
      join(dir, MODEL_FILES.metadata),
      `metadata does not match the schema: ${describeIssues(checked.error.issues)}`,
    )
  }
  await checkModelDestination(dir)
  const writeFile = options.writeFile ?? writeFileDurable
  const artifacts = await captureArtifacts(model)
  const weightData = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
  const modelJson = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [MODEL_FILES.weights], weights: artifacts.weightSpecs ?? [] }],
  }
  const suffix = randomBytes(6).toString('hex')
  const tmp = `${dir}.tmp-${suffix}`
  const aside = `${dir}.old-${suffix}`
  activeTemps.add(resolve(tmp))
  try {
    try {
      await makeDirs(dirname(tmp))
      await mkdir(tmp)
      await writeFile(join(tmp, MODEL_FILES.weights), weightData)
      await writeFile(join(tmp, MODEL_FILES.model), JSON.stringify(modelJson))
      await writeFile(join(tmp, MODEL_FILES.metadata), JSON.stringify(checked.data, null, 2))
    } catch (error) {
      await rm(tmp, { recursive: true, force: true })
      throw new ModelFileError(dir, `could not write the model: ${errorMessage(error)}`, {
        cause: error,
      })
    }
    const key = resolve(dir)
    const published = publish(dir, tmp, aside)
    publishing.set(key, published)
    try {
      await published
    } finally {
      if (publishing.get(key) === published) publishing.delete(key)
    }
  } finally {
    activeTemps.delete(resolve(tmp))
  }
  // Leftovers of saves interrupted earlier are stale now that `dir` holds a complete model.
  await removeModelLeftovers(dir, activeTemps).catch(() => undefined)
}

/**
 * Moves the old folder aside (a rename cannot replace a non-empty folder everywhere), moves the
 * new one in, then deletes the old one. On failure the old folder is put back. A kill between the
 * renames leaves both as siblings, which `loadModel` and the next `saveModel` recover.
 */
async function publish(dir: string, tmp: string, aside: string): Promise<void> {
  const hadOld = await exists(dir)
  try {
    if (hadOld) await rename(dir, aside)
    await rename(tmp, dir)
  } catch (error) {
    if (hadOld && !(await exists(dir)) && (await exists(aside))) await rename(aside, dir)
    await rm(tmp, { recursive: true, force: true })
    throw new ModelFileError(dir, `could not replace the model folder: ${errorMessage(error)}`, {
      cause: error,
    })
  }
  if (hadOld) await rm(aside, { recursive: true, force: true })
}

const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
}

/** Bytes one manifest entry occupies in weights.bin, or null when it cannot be known (strings). */
function entryBytes(entry: tf.io.WeightsManifestEntry): number | null {
  const dtype = entry.quantization?.dtype ?? entry.dtype
  const size = BYTES_PER_ELEMENT[dtype]
  if (size === undefined) return null
  return entry.shape.reduce((a, b) => a * b, 1) * size
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw new ModelFileError(file, missingOrUnreadable(error), { cause: error })
  }
}

function missingOrUnreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' ? 'file is missing' : `cannot be read: ${errorMessage(error)}`
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ModelFileError(file, `is not valid JSON: ${errorMessage(error)}`, { cause: error })
  }
}

interface ModelJson {
  modelTopology: object
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
  format?: string
  generatedBy?: string
  convertedBy?: string | null
}

function checkModelJson(file: string, value: unknown): ModelJson {
  const json = value as Partial<ModelJson> | null
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object') {
    throw new ModelFileError(file, 'has no modelTopology; it is not a TF.js layers model')
  }
  if (!Array.isArray(json.weightsManifest)) {
    throw new ModelFileError(file, 'has no weightsManifest; it is not a TF.js layers model')
  }
  const paths = json.weightsManifest.flatMap((group) => group.paths ?? [])
  if (paths.length !== 1 || paths[0] !== MODEL_FILES.weights) {
    throw new ModelFileError(
      file,
      `weightsManifest must point to ${MODEL_FILES.weights} only (found ${JSON.stringify(paths)})`,
    )
  }
  return json as ModelJson
}

/**
 * Loads a model folder written by `saveModel` (putting back one that a save killed between its
 * renames left missing). Errors name the file and the problem: a missing file, corrupt JSON, a
 * weights.bin whose size does not match the manifest, or metadata that fails the schema.
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  await recoverModelDir(dir)
  const modelFile = join(dir, MODEL_FILES.model)
  const weightsFile = join(dir, MODEL_FILES.weights)
  const metadataFile = join(dir, MODEL_FILES.metadata)

  const metadataResult = ModelMetadataSchema.safeParse(
    parseJson(metadataFile, await readText(metadataFile)),
  )
  if (!metadataResult.success) {
    throw new ModelFileError(
      metadataFile,
      `does not match the InkLab model metadata schema: ${describeIssues(metadataResult.error.issues)}`,
    )
  }
  const modelJson = checkModelJson(modelFile, parseJson(modelFile, await readText(modelFile)))
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights)

  let weights: Buffer
  try {
    weights = await readFile(weightsFile)
  } catch (error) {
    throw new ModelFileError(weightsFile, missingOrUnreadable(error), { cause: error })
  }
  const sizes = weightSpecs.map(entryBytes)
  if (sizes.every((size) => size !== null)) {
    const expected = sizes.reduce<number>((a, b) => a + (b ?? 0), 0)
    if (weights.byteLength !== expected) {
      throw new ModelFileError(
        weightsFile,
        `is ${weights.byteLength} bytes but ${MODEL_FILES.model} describes ${expected} bytes of weights`,
      )
    }
  }
  const weightData = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength,
  ) as ArrayBuffer
  let model: tf.LayersModel
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs,
        weightData,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy ?? undefined,
      }),
    )
  } catch (error) {
    throw new ModelFileError(modelFile, `cannot be built into a model: ${errorMessage(error)}`, {
      cause: error,
    })
  }
  return { model, metadata: metadataResult.data }
}
