import { z } from 'zod'

import { limitedNumber, type Limit } from './model'

/** Bounds of what collecting by drawing accepts. */
export const COLLECTION_LIMITS = {
  /** Characters of a class label typed on the Draw view. */
  labelLength: 40,
  /** Drawings per class the collection panel counts towards. */
  target: { min: 1, max: 1000, int: true },
} as const satisfies Record<string, Limit | number>

/** The collection panel's starting target: drawings per class. */
export const COLLECTION_DEFAULTS = { target: 20 } as const

/**
 * A class label given to a drawing or a correction: trimmed, one to 40 characters, no control
 * characters (it becomes a class name in a model's metadata and its exports).
 */
export const SampleLabelSchema = z
  .string()
  .trim()
  .min(1, 'a label needs at least one character')
  .max(COLLECTION_LIMITS.labelLength)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .refine((label) => !/[\u0000-\u001f\u007f]/.test(label), 'a label cannot hold control characters')

/**
 * A sample's lasting name in its dataset: `file:<path>` for an image of an imported folder (its
 * path relative to the folder), `train:<i>` or `test:<i>` for the i-th stored image of a split
 * without files (IDX, built-in MNIST), `d-<hex>` for a drawing added on the pad.
 */
export const SampleKeySchema = z
  .string()
  .max(4200)
  .regex(
    // eslint-disable-next-line no-control-regex -- a file key holds no control characters
    /^(?:(?:train|test):\d{1,9}|d-[0-9a-f]{8,32}|file:[^\u0000-\u001f\u007f]+)$/,
    'not a sample key',
  )

/** The target per class, within its bounds. */
export const CollectionTargetSchema = limitedNumber(COLLECTION_LIMITS.target)

/** What a correction does to one sample. */
export const CorrectionSchema = z.discriminatedUnion('action', [
  /** Gives the sample another class (one the dataset has; a drawn dataset may gain one). */
  z.object({ action: z.literal('relabel'), label: SampleLabelSchema }),
  /** Leaves the sample out of training and evaluation (a drawing is removed). */
  z.object({ action: z.literal('exclude') }),
  /** Takes back an exclusion or a relabelling: the sample is as imported again. */
  z.object({ action: z.literal('restore') }),
])
export type Correction = z.infer<typeof CorrectionSchema>

/** A drawing as saved: its key, its class and the 28x28 input it became (base64, 784 bytes). */
export const CollectedSampleSchema = z.object({
  key: SampleKeySchema,
  label: z.string(),
  pixels: z.string(),
})
export type CollectedSample = z.infer<typeof CollectedSampleSchema>
