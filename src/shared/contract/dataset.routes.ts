import { z } from 'zod'

import { DatasetSummarySchema, SampleImageSchema } from '../schemas'
import { defineRoute, IdSchema, NameSchema, PathSchema } from './define'

export const datasetRoutes = {
  /** Datasets already imported into the data folder. */
  'dataset.list': defineRoute('dataset.list', z.object({}), z.array(DatasetSummarySchema)),
  /** Loads built-in MNIST (70,000 official images, offline). */
  'dataset.loadBuiltin': defineRoute(
    'dataset.loadBuiltin',
    z.object({ name: z.literal('mnist') }),
    DatasetSummarySchema,
  ),
  /** Opens a folder of IDX files (MNIST family, EMNIST with its mapping). */
  'dataset.openIdx': defineRoute(
    'dataset.openIdx',
    z.object({ path: PathSchema, name: NameSchema.optional() }),
    DatasetSummarySchema,
  ),
  /** Imports a folder with one subfolder per class; emits `dataset.progress`. */
  'dataset.importFolder': defineRoute(
    'dataset.importFolder',
    z.object({ path: PathSchema, name: NameSchema.optional() }),
    DatasetSummarySchema,
  ),
  /** Cancels the import in progress, if any. */
  'dataset.cancelImport': defineRoute(
    'dataset.cancelImport',
    z.object({}),
    z.object({ cancelled: z.boolean() }),
  ),
  /** Sample images of a dataset split, optionally of one class. */
  'dataset.samples': defineRoute(
    'dataset.samples',
    z.object({
      datasetId: IdSchema,
      split: z.enum(['train', 'test']).default('train'),
      label: z.number().int().nonnegative().optional(),
      offset: z.number().int().nonnegative().default(0),
      count: z.number().int().min(1).max(500).default(32),
    }),
    z.array(SampleImageSchema),
  ),
  /** Removes an imported dataset from the data folder. */
  'dataset.delete': defineRoute(
    'dataset.delete',
    z.object({ datasetId: IdSchema }),
    z.object({ ok: z.boolean() }),
  ),
} as const
