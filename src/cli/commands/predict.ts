import {
  decodeImageFile,
  describeBackend,
  initBackend,
  loadModel,
  predictionOf,
  predictProbabilities,
  preprocess,
} from '@engine/index'
import { BackendRequestSchema, type Prediction } from '@shared/schemas'
import { resolve } from 'node:path'

import { choiceOption, parseCommandArgs, required } from '../args'
import { describeError, UsageError } from '../errors'
import { percent, type Output } from '../output'

export const PREDICT_HELP = `inklab predict --model DIR FILE... [--backend B] [--json]`

const OPTIONS = {
  model: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const

/** `inklab predict`: classifies image files of any size and polarity with a saved model. */
export async function predictCommand(argv: string[], out: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs('predict', argv, OPTIONS, true)
  const modelDir = resolve(required('model', values.model))
  if (positionals.length === 0) throw new UsageError('predict: give at least one image FILE')
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
  const errors: Array<{ file: string; error: string }> = []
  try {
    for (const file of positionals) {
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
  out.emitJson({ predictions, errors, backend: backend.name })
  return errors.length > 0 ? 1 : 0
}
