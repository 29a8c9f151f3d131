import {
  decodeImageFile,
  describeBackend,
  findImageFiles,
  IMAGE_EXTENSIONS,
  initBackend,
  loadModel,
  predictionOf,
  predictProbabilities,
  preprocess,
} from '@engine/index'
import { BackendRequestSchema, type Prediction, type SkippedFile } from '@shared/schemas'
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'

import { choiceOption, parseCommandArgs, required } from '../args'
import { describeError, UsageError } from '../errors'
import { percent, type Output } from '../output'

export const PREDICT_HELP = `inklab predict --model DIR FILE|FOLDER... [--backend B] [--json]
      a FOLDER stands for the image files in it and in its subfolders, in natural order`

/** What the arguments name: the image files to classify, and the problems found on the way. */
interface Inputs {
  files: string[]
  errors: Array<{ file: string; error: string }>
  skipped: SkippedFile[]
  otherFiles: number
}

/**
 * Each argument as the files to classify: a file as itself (reading it reports what is wrong with
 * it), a folder as the image files in its tree by folder import's rule. A folder without any
 * image is an error naming it.
 */
async function expandInputs(args: readonly string[]): Promise<Inputs> {
  const inputs: Inputs = { files: [], errors: [], skipped: [], otherFiles: 0 }
  for (const arg of args) {
    const info = await stat(arg).catch(() => null)
    if (!info?.isDirectory()) {
      inputs.files.push(arg)
      continue
    }
    try {
      const found = await findImageFiles(arg)
      inputs.skipped.push(...found.skipped)
      inputs.otherFiles += found.otherFiles
      if (found.files.length === 0) {
        throw new Error(
          `${arg}: no image files in this folder or its subfolders (looked for ${IMAGE_EXTENSIONS.join(' ')})`,
        )
      }
      inputs.files.push(...found.files)
    } catch (error) {
      inputs.errors.push({ file: arg, error: describeError(error) })
    }
  }
  return inputs
}

const OPTIONS = {
  model: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const

/** `inklab predict`: classifies image files of any size and polarity with a saved model. */
export async function predictCommand(argv: string[], out: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs('predict', argv, OPTIONS, true)
  const modelDir = resolve(required('model', values.model))
  if (positionals.length === 0)
    throw new UsageError('predict: give at least one image FILE or a FOLDER of images')
  const { files, errors, skipped, otherFiles } = await expandInputs(positionals)
  for (const { error } of errors) out.info(`inklab: error: ${error}`)
  for (const s of skipped) out.info(`inklab: skipped ${s.file}: ${s.reason}`)
  if (otherFiles > 0) {
    const what = otherFiles === 1 ? 'file that is' : 'files that are'
    out.info(`inklab: passed over ${otherFiles} ${what} not an image`)
  }
  const backend = await initBackend(
    choiceOption('backend', values.backend ?? 'auto', BackendRequestSchema.options)!,
  )
  out.info(describeBackend(backend))
  const { model, metadata } = await loadModel(modelDir)
  const predictions: Array<
    { file: string } & Pick<Prediction, 'label' | 'confidence' | 'top'> & {
        /** Softmax over all labels, in the order of the model's labels. */
        probabilities: number[]
        /** The 28x28 input the model saw (784 bytes, white ink on black), base64. */
        input: string
      }
  > = []
  try {
    for (const file of files) {
      try {
        const { pixels, empty } = preprocess(await decodeImageFile(resolve(file)))
        if (empty) throw new Error(`${file}: no ink found (the image is blank)`)
        const probabilities = predictProbabilities(model, pixels, 1)
        const p = predictionOf(probabilities, metadata.labels)
        predictions.push({
          file,
          label: p.label,
          confidence: p.confidence,
          top: p.top,
          probabilities: Array.from(probabilities),
          input: Buffer.from(pixels).toString('base64'),
        })
        out.result(
          `${file}: ${p.label} (${percent(p.confidence)})  ` +
            p.top
              .slice(1)
              .map((t) => `${t.label} ${percent(t.p)}`)
              .join(', '),
        )
      } catch (error) {
        const message = describeError(error)
        errors.push({ file, error: message })
        out.info(`inklab: error: ${message.startsWith(file) ? '' : `${file}: `}${message}`)
      }
    }
  } finally {
    model.dispose()
  }
  out.emitJson({ predictions, errors, skipped, backend: backend.name })
  return errors.length > 0 ? 1 : 0
}
