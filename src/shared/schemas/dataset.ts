import { z } from 'zod'

import { limitedNumber, type Limit } from './model'

/** Bounds of the import settings (the import form, the routes and the CLI use these). */
export const IMPORT_LIMITS = {
  /** Fraction of each class held out as the test split of a folder import. */
  testSplit: { min: 0, max: 0.5 },
} as const satisfies Record<string, Limit>

/** File extensions (lower case) that folder import decodes; uploads accept these only. */
export const IMAGE_EXTENSIONS = [
  '.png',
  '.jpg',
  '.jpeg',
  '.bmp',
  '.gif',
  '.webp',
  '.tif',
  '.tiff',
] as const

/** True when a file name ends in one of `IMAGE_EXTENSIONS` (any case). */
export function isImageFileName(name: string): boolean {
  const dot = name.lastIndexOf('.')
  return dot >= 0 && (IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot).toLowerCase())
}

/**
 * Bounds of a folder uploaded from a browser (serve mode): handwriting images are small, and a
 * bigger folder on this machine is better imported by its path.
 */
export const UPLOAD_LIMITS = {
  /** Bytes of one image file. */
  fileBytes: 32 * 1024 * 1024,
  /** Bytes of one upload in all. */
  totalBytes: 2 * 1024 * 1024 * 1024,
  /** Files in one upload. */
  files: 500_000,
} as const

/** A folder chosen or dropped in a browser, as the upload describes it before sending. */
export const UploadDescriptionSchema = z.object({
  /** The folder's name (the dataset's default name). */
  name: z.string().min(1).max(255),
  files: z.number().int().min(1),
  bytes: z.number().int().nonnegative(),
  /** Identifies the same folder chosen again (its file names, sizes and dates, hashed). */
  fingerprint: z.string().min(1).max(100),
})
export type UploadDescription = z.infer<typeof UploadDescriptionSchema>

/** The share of each class a folder import holds out as its test split, unless told otherwise. */
export const DEFAULT_TEST_SPLIT = 0.15

/**
 * Seed of the held-out test split of a folder: fixed, so the app and `inklab train`/`eval` hold
 * out the very same images of a folder, and a re-import holds out what the last one did.
 */
export const TEST_SPLIT_SEED = 20_240_615

/** How a folder import makes its test split: a share of each class, or a folder of its own. */
export const TestSplitSchema = z.union([
  z.object({ fraction: limitedNumber(IMPORT_LIMITS.testSplit) }),
  z.object({ folder: z.string().min(1).max(4096) }),
])
export type TestSplit = z.infer<typeof TestSplitSchema>

/** Where a dataset comes from. */
export const DatasetSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('builtin'), name: z.enum(['mnist']) }),
  z.object({ kind: z.literal('idx'), path: z.string().min(1) }),
  z.object({
    kind: z.literal('folder'),
    path: z.string().min(1),
    /**
     * How its test split was made: the share of each class held out (0: none), or the folder
     * the test images came from (a `test` folder beside `train`, or one given). Absent in
     * datasets imported before test splits existed (they have none).
     */
    test: TestSplitSchema.optional(),
    /** Uploaded from a browser: the folder's name and fingerprint there (to know it again). */
    upload: z.object({ name: z.string(), fingerprint: z.string() }).optional(),
  }),
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
  /**
   * Samples of an imported folder corrected by their position before a refresh moved them (an
   * InkLab older than file keys): not applied, since another image may be at that place now.
   * Absent when there are none.
   */
  stale: z.number().int().nonnegative().optional(),
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
   * The sample's lasting name in its dataset (`file:cats/12.png` for an image of an imported
   * folder, `train:123` for the 124th stored training image of an IDX set or MNIST, `d-…` for a
   * drawing), for corrections: unlike `index`, it does not move when other samples are
   * relabelled or excluded, nor (for a folder) when a refresh adds or removes other files.
   */
  key: z.string().optional(),
  /** The file it was imported from, relative to the imported folder (folder datasets). */
  file: z.string().optional(),
})
export type SampleImage = z.infer<typeof SampleImageSchema>

/** A grayscale image from the drawing pad or a file, row-major, one byte per pixel, base64. */
export const GrayImagePayloadSchema = z.object({
  width: z.number().int().min(1).max(4096),
  height: z.number().int().min(1).max(4096),
  data: z.string().max(4096 * 4096 * 2),
})
export type GrayImagePayload = z.infer<typeof GrayImagePayloadSchema>
