import { z } from 'zod'

import {
  DatasetSummarySchema,
  IMPORT_LIMITS,
  limitedNumber,
  SampleImageSchema,
  TestSplitSchema,
  UploadDescriptionSchema,
} from '../schemas'
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
  /**
   * Opens a folder of IDX files (MNIST family, EMNIST with its mapping); with `replace`, in the
   * place of that dataset (a refresh).
   */
  'dataset.openIdx': defineRoute(
    'dataset.openIdx',
    z.object({ path: PathSchema, name: NameSchema.optional(), replace: IdSchema.optional() }),
    DatasetSummarySchema,
  ),
  /**
   * Imports a folder with one subfolder per class, holding out a test split (`test`: a share of
   * each class, or a folder with the same classes; default: its `test` folder beside `train`,
   * else 15%); emits `dataset.progress`. With `replace`, it takes the place of that dataset (a
   * refresh: the id, and the runs that name it, stay).
   */
  'dataset.importFolder': defineRoute(
    'dataset.importFolder',
    z.object({
      path: PathSchema,
      name: NameSchema.optional(),
      test: TestSplitSchema.optional(),
      replace: IdSchema.optional(),
    }),
    DatasetSummarySchema,
  ),
  /**
   * The dataset already imported from this folder (by its path, or, uploaded, by its name), or
   * null: the UI offers to use it or refresh it rather than make a second copy.
   */
  'dataset.find': defineRoute(
    'dataset.find',
    z.union([z.object({ path: PathSchema }), z.object({ upload: UploadDescriptionSchema })]),
    DatasetSummarySchema.nullable(),
  ),
  /**
   * Serve mode: opens the upload of a folder chosen or dropped in the browser. Its files then go
   * one by one to `PUT /api/upload/<uploadId>/<class>/<file>`, and `dataset.importUpload`
   * imports them. Refused over `UPLOAD_LIMITS`.
   */
  'dataset.uploadStart': defineRoute(
    'dataset.uploadStart',
    UploadDescriptionSchema,
    z.object({ uploadId: IdSchema }),
  ),
  /**
   * Imports an uploaded folder through the folder import (`name`, `replace` as there; a `train`
   * and `test` folder pair is used as the splits, else `testFraction` of each class is held out),
   * then removes the uploaded files; emits `dataset.progress`.
   */
  'dataset.importUpload': defineRoute(
    'dataset.importUpload',
    z.object({
      uploadId: IdSchema,
      name: NameSchema.optional(),
      testFraction: limitedNumber(IMPORT_LIMITS.testSplit).optional(),
      replace: IdSchema.optional(),
    }),
    DatasetSummarySchema,
  ),
  /** Drops an upload and its files (cancelled, or failed). */
  'dataset.uploadDiscard': defineRoute(
    'dataset.uploadDiscard',
    z.object({ uploadId: IdSchema }),
    z.object({ ok: z.boolean() }),
  ),
  /** Gives a dataset a new name. */
  'dataset.rename': defineRoute(
    'dataset.rename',
    z.object({ datasetId: IdSchema, name: NameSchema.min(1) }),
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
