import { z } from 'zod'

/** The formats a trained model can be exported to. */
export const ExportFormatSchema = z.enum(['tfjs', 'keras', 'onnx'])
export type ExportFormat = z.infer<typeof ExportFormatSchema>

/** What one model export wrote (one format). */
export interface ModelExportResult {
  format: ExportFormat
  /** The file (Keras, ONNX) or folder (TF.js) written, absolute. */
  path: string
  /** Size on disk (a folder: its files together). */
  bytes: number
  seconds: number
}

/** What each export format is, for the CLI's help, the Models view and the exported file names. */
export interface ExportFormatInfo {
  /** Short name for menus and messages. */
  title: string
  /** One line on what is written and what reads it. */
  description: string
  /** Name given to the export inside an export folder (the app's Models view). */
  defaultName: string
  /** File name endings the format accepts; empty for a folder. */
  extensions: readonly string[]
}

export const EXPORT_FORMATS: Readonly<Record<ExportFormat, ExportFormatInfo>> = {
  tfjs: {
    title: 'TF.js',
    description:
      'a folder (model.json, weights.bin, metadata.json) for tf.loadLayersModel and InkLab',
    defaultName: 'model',
    extensions: [],
  },
  keras: {
    title: 'Keras (.h5)',
    description: 'one HDF5 file that keras.models.load_model opens (Keras 3 and tf.keras 2)',
    defaultName: 'model.h5',
    extensions: ['.h5', '.hdf5'],
  },
  onnx: {
    title: 'ONNX',
    description: 'one .onnx file (opset 13) for onnxruntime and other ONNX runtimes',
    defaultName: 'model.onnx',
    extensions: ['.onnx'],
  },
}

/** The format a path's extension asks for, or null when it names none. */
export function exportFormatOfPath(path: string): ExportFormat | null {
  const lower = path.toLowerCase()
  for (const format of ExportFormatSchema.options) {
    if (EXPORT_FORMATS[format].extensions.some((ext) => lower.endsWith(ext))) return format
  }
  return null
}

/**
 * How an exported model expects its input, written into every export's metadata: a batch of
 * 28x28 single-channel images (N, 28, 28, 1), float32, white ink (1) on black (0), pixel / 255.
 */
export const EXPORT_INPUT = {
  shape: [28, 28, 1],
  layout: 'NHWC (batch, height, width, channels)',
  dtype: 'float32',
  range: [0, 1],
  ink: 'white ink (1.0) on a black background (0.0): invert dark-on-light scans',
  scale: 'pixel / 255',
  output: 'softmax probabilities, one per label, in the order of labels',
} as const
