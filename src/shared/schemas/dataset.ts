import { z } from 'zod'

/** Where a dataset comes from. */
export const DatasetSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('builtin'), name: z.enum(['mnist']) }),
  z.object({ kind: z.literal('idx'), path: z.string().min(1) }),
  z.object({ kind: z.literal('folder'), path: z.string().min(1) }),
  /** Drawn on the pad, sample by sample (its samples live in the dataset's edits log). */
  z.object({ kind: z.literal('drawn') }),
])
export type DatasetSource = z.infer<typeof DatasetSourceSchema>

/** A file that import could not use, with the reason. */
export const SkippedFileSchema = z.object({ file: z.string(), reason: z.string() })
export type SkippedFile = z.infer<typeof SkippedFileSchema>

/**
 * What a dataset's edits log changed: drawings added (on the pad, collected or as corrections),
 * samples given another label, samples excluded from training.
 */
export const DatasetEditsSchema = z.object({
  drawn: z.number().int().nonnegative(),
  relabelled: z.number().int().nonnegative(),
  excluded: z.number().int().nonnegative(),
})
export type DatasetEdits = z.infer<typeof DatasetEditsSchema>

/** Serializable description of a loaded dataset (no pixels). */
export const DatasetSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  source: DatasetSourceSchema,
  /** A drawn dataset starts with none and gains a class with its first drawing. */
  labels: z.array(z.string()),
  /** Per-class counts, index-aligned with `labels`. */
  trainCounts: z.array(z.number().int().nonnegative()),
  testCounts: z.array(z.number().int().nonnegative()).optional(),
  trainSize: z.number().int().nonnegative(),
  testSize: z.number().int().nonnegative(),
  skipped: z.array(SkippedFileSchema),
  /** Present once the dataset has edits (drawings, relabelled or excluded samples). */
  edits: DatasetEditsSchema.optional(),
})
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>

/** Progress of a long dataset operation (import, decode). */
export const ImportProgressSchema = z.object({
  phase: z.enum(['scanning', 'decoding', 'writing', 'done']),
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** File being processed, when there is one. */
  file: z.string().optional(),
})
export type ImportProgress = z.infer<typeof ImportProgressSchema>

/** A 28x28 grayscale sample (white ink on black, MNIST convention) as 784 bytes, base64-encoded. */
export const SampleImageSchema = z.object({
  index: z.number().int().nonnegative(),
  label: z.number().int().nonnegative(),
  pixels: z.string(),
  /**
   * The sample's lasting name in its dataset (`train:123` for the 124th stored training image,
   * `d-…` for a drawing), for corrections: unlike `index`, it does not move when other samples
   * are relabelled or excluded.
   */
  key: z.string().optional(),
})
export type SampleImage = z.infer<typeof SampleImageSchema>

/** A grayscale image from the drawing pad or a file, row-major, one byte per pixel, base64. */
export const GrayImagePayloadSchema = z.object({
  width: z.number().int().min(1).max(4096),
  height: z.number().int().min(1).max(4096),
  data: z.string().max(4096 * 4096 * 2),
})
export type GrayImagePayload = z.infer<typeof GrayImagePayloadSchema>
