import { ArchitectureSchema, type LayerSpec } from './schemas/model'
import type { z } from 'zod'

/** Side of the square input every model takes (28x28x1). */
export const INPUT_SIZE = 28

/** Architectures above this many parameters are refused: they would not train in reasonable time. */
export const MAX_PARAMS = 50_000_000

/** An architecture as a caller may write it (schema defaults not yet applied). */
export type ArchitectureInput = z.input<typeof ArchitectureSchema>

/** One layer of a validated architecture with its inferred output shape. */
export interface LayerSummary {
  /** For example "layer 3 (conv2d 5x5)" or "output (dense 10 softmax)". */
  name: string
  /** [height, width, channels] for image-shaped outputs, [units] for vectors. */
  outputShape: number[]
  params: number
}

/** One problem of an architecture, located by layer (and setting, when one is at fault). */
export interface ArchitectureIssue {
  /**
   * 0-based index of the layer: hidden layers first, then the output layer (at the index equal to
   * the number of hidden layers); null for the network as a whole (too many parameters, classes).
   */
  layer: number | null
  /** The layer's setting at fault (`rate`, `kernelSize`), when the schema refused one. */
  field?: string
  /** Where, as people read it: "layer 3 (conv2d 5x5)", "output (dense 10 softmax)". */
  where?: string
  /** The problem: "input is 2x2, too small for a 5x5 kernel with valid padding". */
  message: string
}

/** An issue as one line: "layer 3 (conv2d 5x5): input is 2x2, ...". */
export function issueText(issue: ArchitectureIssue): string {
  return issue.where ? `${issue.where}: ${issue.message}` : issue.message
}

/** Every issue as one line each, joined with "; " (for a terminal or an error message). */
export function describeArchitectureIssues(issues: readonly ArchitectureIssue[]): string {
  return issues.map(issueText).join('; ')
}

/** Result of `validateArchitecture`: `ok` is true exactly when `errors` is empty. */
export interface ArchitectureReport {
  ok: boolean
  errors: ArchitectureIssue[]
  layers: LayerSummary[]
  totalParams: number
}

type Shape = { kind: 'image'; h: number; w: number; c: number } | { kind: 'vector'; n: number }

/** Short human name of a layer spec, as used in error messages. */
export function describeLayer(spec: LayerSpec): string {
  switch (spec.type) {
    case 'conv2d':
      return `conv2d ${spec.kernelSize}x${spec.kernelSize}${spec.strides > 1 ? ` stride ${spec.strides}` : ''}`
    case 'maxPool2d':
      return `maxPool2d ${spec.poolSize}x${spec.poolSize}`
    case 'dropout':
      return `dropout ${spec.rate}`
    case 'dense':
      return `dense ${spec.units}`
    default:
      return spec.type
  }
}

function shapeText(shape: Shape): string {
  return shape.kind === 'image' ? `${shape.h}x${shape.w}x${shape.c}` : `a vector of ${shape.n}`
}

function shapeArray(shape: Shape): number[] {
  return shape.kind === 'image' ? [shape.h, shape.w, shape.c] : [shape.n]
}

/** Output side of a window op; null when the input is smaller than the window with valid padding. */
function windowOutput(
  size: number,
  window: number,
  stride: number,
  padding: 'valid' | 'same',
): number | null {
  if (padding === 'same') return Math.ceil(size / stride)
  if (size < window) return null
  return Math.floor((size - window) / stride) + 1
}

/**
 * Infers shapes and parameter counts of an architecture on a 28x28x1 input, without tfjs.
 * Errors name the layer ("layer 3 (conv2d 5x5): input is 2x2, too small for a 5x5 kernel with valid
 * padding"). The softmax output layer for `numClasses` is appended and counted.
 */
export function validateArchitecture(
  arch: ArchitectureInput,
  numClasses: number,
): ArchitectureReport {
  const parsed = ArchitectureSchema.safeParse(arch)
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue): ArchitectureIssue => {
      const [first, index, ...rest] = issue.path
      if (first === 'layers' && typeof index === 'number') {
        const field = rest.length > 0 ? rest.map(String).join('.') : undefined
        return {
          layer: index,
          ...(field ? { field } : {}),
          where: `layer ${index + 1}${field ? ` (${field})` : ''}`,
          message: issue.message,
        }
      }
      return { layer: null, where: issue.path.join('.') || 'architecture', message: issue.message }
    })
    return { ok: false, errors, layers: [], totalParams: 0 }
  }
  const errors: ArchitectureIssue[] = []
  const layers: LayerSummary[] = []
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    errors.push({ layer: null, message: `the output needs at least 2 classes (got ${numClasses})` })
  }
  let shape: Shape = { kind: 'image', h: INPUT_SIZE, w: INPUT_SIZE, c: 1 }
  let totalParams = 0
  for (const [i, spec] of parsed.data.layers.entries()) {
    const name = `layer ${i + 1} (${describeLayer(spec)})`
    const fail = (problem: string): void => {
      errors.push({ layer: i, where: name, message: problem })
    }
    let params = 0
    let next: Shape | null = shape
    switch (spec.type) {
      case 'conv2d':
      case 'maxPool2d': {
        if (shape.kind !== 'image') {
          fail(
            `input is ${shapeText(shape)}; ${spec.type} needs an image-shaped input (put it before flatten)`,
          )
          next = null
          break
        }
        const window = spec.type === 'conv2d' ? spec.kernelSize : spec.poolSize
        const stride = spec.type === 'conv2d' ? spec.strides : spec.poolSize
        const padding = spec.type === 'conv2d' ? spec.padding : 'valid'
        const h = windowOutput(shape.h, window, stride, padding)
        const w = windowOutput(shape.w, window, stride, padding)
        if (h === null || w === null) {
          const what = spec.type === 'conv2d' ? 'kernel with valid padding' : 'pool'
          fail(`input is ${shape.h}x${shape.w}, too small for a ${window}x${window} ${what}`)
          next = null
          break
        }
        if (spec.type === 'conv2d') {
          params = window * window * shape.c * spec.filters + spec.filters
          next = { kind: 'image', h, w, c: spec.filters }
        } else {
          next = { kind: 'image', h, w, c: shape.c }
        }
        break
      }
      case 'batchNorm':
        // gamma, beta (trainable) and moving mean/variance (not trainable), one each per channel.
        params = 4 * (shape.kind === 'image' ? shape.c : shape.n)
        break
      case 'dropout':
        break
      case 'flatten':
        if (shape.kind !== 'image') {
          // tfjs's Flatten refuses 2-D input, so the model could not be built.
          fail(`input is already ${shapeText(shape)}; remove this flatten`)
          next = null
          break
        }
        next = { kind: 'vector', n: shape.h * shape.w * shape.c }
        break
      case 'globalAveragePool':
        if (shape.kind !== 'image') {
          fail(`input is ${shapeText(shape)}; globalAveragePool needs an image-shaped input`)
          next = null
          break
        }
        next = { kind: 'vector', n: shape.c }
        break
      case 'dense':
        if (shape.kind !== 'vector') {
          fail(
            `input is ${shapeText(shape)} (image-shaped); add a flatten or globalAveragePool layer before it`,
          )
          next = null
          break
        }
        params = shape.n * spec.units + spec.units
        next = { kind: 'vector', n: spec.units }
        break
    }
    if (next === null) {
      // Shapes after an invalid layer are unknown; stop rather than report follow-on errors.
      return { ok: false, errors, layers, totalParams }
    }
    shape = next
    totalParams += params
    layers.push({ name, outputShape: shapeArray(shape), params })
  }
  const outputName = `output (dense ${numClasses} softmax)`
  if (shape.kind !== 'vector') {
    errors.push({
      layer: parsed.data.layers.length,
      where: outputName,
      message: `input is ${shapeText(shape)} (image-shaped); end the architecture with flatten or globalAveragePool`,
    })
  } else {
    const params = shape.n * numClasses + numClasses
    totalParams += params
    layers.push({ name: outputName, outputShape: [numClasses], params })
  }
  if (totalParams > MAX_PARAMS) {
    errors.push({
      layer: null,
      message: `the architecture has ${totalParams.toLocaleString('en-US')} parameters, more than the limit of ${MAX_PARAMS.toLocaleString('en-US')}`,
    })
  }
  return { ok: errors.length === 0, errors, layers, totalParams }
}

/** Result of `parseArchitectureJson`. */
export type ArchitectureParse = { ok: true; layers: LayerSpec[] } | { ok: false; error: string }

/**
 * Reads `{ "layers": [...] }` text (the format of `inklab train --architecture FILE.json` and the
 * app's JSON import); missing optional fields get the schema's defaults. Only the format is
 * checked here: whether the shapes fit is `validateArchitecture`'s job, so a network that does not
 * fit yet can still be imported and fixed.
 */
export function parseArchitectureJson(text: string): ArchitectureParse {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    return { ok: false, error: `Not valid JSON: ${(error as Error).message}` }
  }
  const parsed = ArchitectureSchema.safeParse(raw)
  if (parsed.success) return { ok: true, layers: parsed.data.layers }
  // validateArchitecture re-parses whatever it gets and words schema problems by layer
  // ("layer 2 (filters): Required"), hence the cast.
  const { errors } = validateArchitecture(raw as ArchitectureInput, 2)
  return {
    ok: false,
    error: describeArchitectureIssues(errors) || parsed.error.issues[0]?.message || 'Invalid',
  }
}
