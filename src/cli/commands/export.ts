import { ExportDestinationError, exportModel, initBackend } from '@engine/index'
import { formatBytes } from '@shared/node/files'
import {
  EXPORT_FORMATS,
  exportFormatOfPath,
  ExportFormatSchema,
  type ExportFormat,
} from '@shared/schemas'
import { resolve } from 'node:path'

import { choiceOption, parseCommandArgs, required } from '../args'
import { UsageError } from '../errors'
import type { Output } from '../output'

export const EXPORT_HELP = `inklab export --model DIR --out PATH [--format keras|onnx|tfjs] [--json]
      keras: PATH.h5 for keras.models.load_model; onnx: PATH.onnx for onnxruntime;
      tfjs: a folder. The format defaults to the one PATH's ending names.`

const OPTIONS = {
  model: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  json: { type: 'boolean' },
} as const

/** `inklab export`: writes a saved model as Keras HDF5, ONNX or a TF.js folder. */
export async function exportCommand(argv: string[], out: Output): Promise<number> {
  const { values } = parseCommandArgs('export', argv, OPTIONS)
  const modelDir = resolve(required('model', values.model))
  const outPath = resolve(required('out', values.out))
  const format: ExportFormat | null =
    choiceOption('format', values.format, ExportFormatSchema.options) ?? exportFormatOfPath(outPath)
  if (!format) {
    throw new UsageError(
      `--format is required: --out ${outPath} does not end in .h5 (keras) or .onnx (onnx)`,
    )
  }
  await initBackend('auto')
  let result
  try {
    result = await exportModel({ modelDir, format, out: outPath })
  } catch (error) {
    // Name the option, so "is a folder" or "permission denied" points at what to change.
    if (error instanceof ExportDestinationError) error.message = `--out ${error.message}`
    throw error
  }
  out.result(
    `Wrote ${result.path} (${EXPORT_FORMATS[format].title}, ${formatBytes(result.bytes)}) in ${result.seconds.toFixed(2)} s`,
  )
  out.emitJson(result)
  return 0
}
