import { z } from 'zod'

/** Where a dataset comes from. */
export const DatasetSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('builtin'), name: z.enum(['mnist']) }),
  z.object({ kind: z.literal('idx'), path: z.string().min(1) }),
  z.object({ kind: z.literal('folder'), path: z.string().min(1) }),
])
export type DatasetSource = z.infer<typeof DatasetSourceSchema>

/** A file that import could not use, with the reason. */
export const SkippedFileSchema = z.object({ file: z.string(), reason: z.string() })
export type SkippedFile = z.infer<typeof SkippedFileSchema>

/** Serializable description of a loaded dataset (no pixels). */
export const DatasetSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  source: DatasetSourceSchema,
  labels: z.array(z.string()).min(2),
  /** Per-class counts, index-aligned with `labels`. */
  trainCounts: z.array(z.number().int().nonnegative()),
  testCounts: z.array(z.number().int().nonnegative()).optional(),
  trainSize: z.number().int().nonnegative(),
  testSize: z.number().int().nonnegative(),
  skipped: z.array(SkippedFileSchema),
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
})
export type SampleImage = z.infer<typeof SampleImageSchema>

/** A grayscale image from the drawing pad or a file, row-major, one byte per pixel, base64. */
export const GrayImagePayloadSchema = z.object({
  width: z.number().int().min(1).max(4096),
  height: z.number().int().min(1).max(4096),
  data: z.string().max(4096 * 4096 * 2),
})
export type GrayImagePayload = z.infer<typeof GrayImagePayloadSchema>
