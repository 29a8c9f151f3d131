import { z } from 'zod'

import {
  CollectedSampleSchema,
  CorrectionSchema,
  DatasetSummarySchema,
  GrayImagePayloadSchema,
  InkSchema,
  SampleKeySchema,
  SampleLabelSchema,
} from '../schemas'
import { defineRoute, IdSchema, NameSchema } from './define'

/** A dataset after a change, with its new counts. */
const ChangedDataset = z.object({ summary: DatasetSummarySchema })

export const collectionRoutes = {
  /** Creates an empty drawn dataset (its classes come with its first drawings). */
  'collection.create': defineRoute(
    'collection.create',
    z.object({ name: NameSchema.trim().min(1) }),
    DatasetSummarySchema,
  ),
  /**
   * Saves a drawing into a dataset under `label`: the pad's image (preprocessed into the 28x28
   * input, as a classification would) and its raw ink. A drawn dataset may gain a class; any
   * other dataset takes only its own classes.
   */
  'collection.add': defineRoute(
    'collection.add',
    z.object({
      datasetId: IdSchema,
      label: SampleLabelSchema,
      image: GrayImagePayloadSchema,
      ink: InkSchema,
    }),
    ChangedDataset.extend({ sample: CollectedSampleSchema }),
  ),
  /** Removes the drawing saved last into the dataset (null when there is none left). */
  'collection.undo': defineRoute(
    'collection.undo',
    z.object({ datasetId: IdSchema }),
    ChangedDataset.extend({
      removed: z.object({ key: SampleKeySchema, label: z.string() }).nullable(),
    }),
  ),
  /**
   * Relabels, excludes or restores one sample. Recorded in InkLab's own copy (the dataset's
   * edits log): the files a dataset was imported from are never touched.
   */
  'collection.correct': defineRoute(
    'collection.correct',
    z.object({ datasetId: IdSchema, key: SampleKeySchema, correction: CorrectionSchema }),
    ChangedDataset,
  ),
} as const
